// "/signin": username and password; then back to the page that asked (`?next=`), or home.

import { append, h } from "../dom.js";
import { field, form, submitButton } from "../forms.js";
import { navigate } from "../navigation.js";
import * as session from "../session.js";

/**
 * Where to go after signing in: only a page of this site. The address is resolved as the browser will resolve
 * the link (which drops tabs and newlines: a slash, a tab and a slash make "//", the start of another site's
 * address), and kept only if it stays on this origin.
 */
export function nextPath(query) {
  const next = query.get("next") || "/";
  if (!next.startsWith("/")) return "/";
  let url;
  try {
    url = new URL(next, location.origin);
  } catch {
    return "/";
  }
  return url.origin === location.origin ? `${url.pathname}${url.search}${url.hash}` : "/";
}

export async function render(root, ctx) {
  ctx.setTitle("Sign in");
  const next = nextPath(ctx.query);
  const user = session.currentUser();
  append(root, h("h1", {}, "Sign in"));
  if (user) {
    append(root,
      h("p", {}, `You are signed in as ${user.username}. `, h("a", { href: next }, "Continue")),
    );
    return;
  }
  append(root,
    form({
      label: "Sign in",
      children: [
        field("username", "Username", {
          required: true,
          attrs: { autocomplete: "username", autocapitalize: "none", spellcheck: "false" },
        }),
        field("password", "Password", {
          type: "password",
          required: true,
          attrs: { autocomplete: "current-password" },
        }),
      ],
      buttons: [submitButton("Sign in")],
      onSubmit: async ({ username, password }) => {
        const signedIn = await session.signIn(username, password);
        navigate(next, { replace: true, flash: `Welcome, ${signedIn.username}. You are signed in.` });
      },
    }),
    h("p", {}, h("a", { href: "/forgot-password" }, "Forgot your password?")),
    h("p", {}, "New here? ", h("a", { href: `/signup${location.search}` }, "Create an account")),
  );
}
