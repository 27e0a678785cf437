import { errorView } from "./errors.js";

export async function render(root, ctx) {
  root.append(errorView({ status: 404 }, ctx));
}
