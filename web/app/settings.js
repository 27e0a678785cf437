// The site's configuration, written into /config.js where the site is served (the local stack) or deployed
// (make deploy): where the API is. Nothing else about the environment is built into the app.

const given = window.SESSIONS_CONFIG || {};

function apiBase(value) {
  if (typeof value !== "string" || value === "") return null;
  // Relative paths below are resolved against it, so it must end with a slash (…/v1/ on API Gateway).
  return value.endsWith("/") ? value : `${value}/`;
}

export const config = Object.freeze({
  apiUrl: apiBase(given.apiUrl),
});

export const SITE_NAME = "Sessions Marketplace";
