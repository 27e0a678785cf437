// "/reference": the API's OpenAPI document rendered by Redoc, the same copy the API serves with its own
// documentation page (GET /api/docs/redoc/), so nothing comes from outside the project.

import { append, fill, h } from "../dom.js";
import { apiUrl } from "../http.js";

let redoc = null; // the script, loaded once per visit

function loadRedoc() {
  if (!redoc) {
    redoc = new Promise((resolve, reject) => {
      const script = h("script", { src: apiUrl("/api/docs/redoc/").href });
      script.addEventListener("load", () => resolve(window.Redoc));
      script.addEventListener("error", () => {
        redoc = null;
        reject(new Error("Redoc did not load"));
      });
      document.head.append(script);
    });
  }
  return redoc;
}

export async function render(root, ctx) {
  ctx.setTitle("API reference");
  const schema = apiUrl("/api/schema/").href;
  const container = h("div", { class: "redoc" });
  const status = h("p", { class: "loading" }, "Loading the reference…");
  append(root,
    h("h1", {}, "API reference"),
    h(
      "p",
      { class: "lede" },
      "Everything this site does goes through this API. The OpenAPI 3.1 document: ",
      h("a", { href: schema }, schema),
    ),
    status,
    container,
  );
  loadRedoc()
    .then((Redoc) => {
      Redoc.init(schema, { hideLoading: true, nativeScrollbars: true }, container, () => status.remove());
    })
    .catch(() => {
      fill(status, "The reference viewer could not be loaded. The document above is plain JSON.");
      status.setAttribute("role", "alert");
    });
}
