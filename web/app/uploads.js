// Images (avatars, event images) in the API's three steps: a form from POST /api/uploads/, the file posted
// with it straight to storage, then the upload's id named in an edit (PATCH /api/me/ or /api/events/<id>/),
// which the API answers once it has checked the file. What the API would refuse for sure (type, size) is
// refused here first, before anything is sent; what only the file's bytes tell (a PNG that is not one, too
// many pixels) comes back from the edit as a field error.

import * as api from "./api.js";
import { field } from "./forms.js";
import { ApiError, postFile } from "./http.js";

export const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"];
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const IMAGE_HELP = "A JPEG, PNG or WebP image of at most 5 MB and 4096 × 4096 pixels.";

/** Why `file` cannot be an image upload, or null. */
export function imageProblem(file) {
  if (!file || !file.name) return "Choose an image file first.";
  if (!IMAGE_TYPES.includes(file.type)) return "Choose a JPEG, PNG or WebP image: other kinds of file are not accepted.";
  if (file.size === 0) return "This file is empty.";
  if (file.size > MAX_IMAGE_BYTES) {
    return `This file is ${(file.size / 1024 / 1024).toFixed(1)} MB: images may be at most 5 MB.`;
  }
  return null;
}

/** A file field for an image, named as the API's field (`avatar`, `image`) so that its errors land there. */
export function imageField(name, label, { help = IMAGE_HELP } = {}) {
  return field(name, label, { type: "file", help, attrs: { accept: IMAGE_TYPES.join(",") } });
}

/** The file chosen in a form's field, from its values (FormData gives an empty File when none is chosen). */
export function chosenFile(value) {
  return value instanceof File && value.name ? value : null;
}

/**
 * Send `file` to storage for `purpose` ("avatar", or "event_image" with `event`); resolves to the upload's id,
 * to name in the edit. Every refusal is an ApiError on the form's field `name`.
 */
export async function uploadImage(file, { purpose, event, name }) {
  const problem = imageProblem(file);
  if (problem) throw new ApiError(400, { [name]: [problem] });
  let upload;
  try {
    upload = await api.startUpload({ purpose, content_type: file.type, size: file.size, event });
  } catch (error) {
    throw onField(error, name);
  }
  try {
    await postFile(upload.url, upload.fields, file);
  } catch (error) {
    // Storage answers in XML, not in the API's terms: whatever it refused (an expired form, a policy it
    // enforces), the file did not get there. No answer at all (status 0) is told as such.
    if (error.status === 0) throw error;
    throw new ApiError(400, { [name]: ["Storage refused the file. Try again, or choose another image."] });
  }
  return upload.id;
}

// The upload's own fields (content_type, size, ...) are not fields of the page's form: their messages belong
// to the file field.
function onField(error, name) {
  if (!(error instanceof ApiError) || error.sessionEnded) return error;
  if (error.status === 400 && Object.keys(error.fieldErrors).length) {
    return new ApiError(400, { [name]: Object.values(error.fieldErrors).flat() });
  }
  return error;
}
