// Every page of the site, by path. `access`: "signed-in" or "creator" (CREATOR or staff) send visitors to
// the sign-in page first. Pages load on first visit (a module each). A page exports
// `render(root, ctx)`: it fills `root` (shown once it resolves) and calls ctx.setTitle().
//
// "/reset-password" is where the API's reset e-mail links ({WEB_APP_URL}/reset-password?uid=<uid>&token=<token>),
// "/confirm-email" where its link to a new e-mail address goes ({WEB_APP_URL}/confirm-email?uid=<uid>&token=<token>),
// and "/events/<id>?booking=<id>&checkout=success|cancelled" where the payment provider sends people back: the
// API builds those addresses, so these paths are part of its contract. "/@<username>" is an organizer's page:
// the site's server and CloudFront serve index.html for it whatever the name holds (deploy/site.py `is_page`).

export const routes = [
  { path: "/", page: () => import("./pages/events.js") },
  { path: "/events", page: () => import("./pages/events.js") },
  { path: "/events/:id", page: () => import("./pages/event.js") },
  { path: "/@:username", page: () => import("./pages/organizer.js") },
  { path: "/signin", page: () => import("./pages/signin.js") },
  { path: "/signup", page: () => import("./pages/signup.js") },
  { path: "/bookings", page: () => import("./pages/bookings.js"), access: "signed-in" },
  { path: "/profile", page: () => import("./pages/profile.js"), access: "signed-in" },
  { path: "/dashboard", page: () => import("./pages/dashboard.js"), access: "creator" },
  { path: "/dashboard/events/new", page: () => import("./pages/event-form.js"), access: "creator" },
  { path: "/dashboard/events/:id/edit", page: () => import("./pages/event-form.js"), access: "creator" },
  { path: "/dashboard/events/:id/attendees", page: () => import("./pages/attendees.js"), access: "creator" },
  { path: "/reference", page: () => import("./pages/reference.js") },
  { path: "/forgot-password", page: () => import("./pages/forgot-password.js") },
  { path: "/reset-password", page: () => import("./pages/reset-password.js") },
  { path: "/confirm-email", page: () => import("./pages/confirm-email.js") },
];
