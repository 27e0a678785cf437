// Every page of the site, by path. `access`: "signed-in" or "creator" (CREATOR or staff) send visitors to
// the sign-in page first. Pages load on first visit (a module each). A page exports
// `render(root, ctx)`: it fills `root` (shown once it resolves) and calls ctx.setTitle().
//
// Phase 2 adds here: "/forgot-password" (ask for the reset e-mail). "/reset-password" is reserved now: the
// API's reset e-mail links to {WEB_APP_URL}/reset-password?uid=<uid>&token=<token>.

export const routes = [
  { path: "/", page: () => import("./pages/events.js") },
  { path: "/events", page: () => import("./pages/events.js") },
  { path: "/events/:id", page: () => import("./pages/event.js") },
  { path: "/signin", page: () => import("./pages/signin.js") },
  { path: "/signup", page: () => import("./pages/signup.js") },
  { path: "/bookings", page: () => import("./pages/bookings.js"), access: "signed-in" },
  { path: "/profile", page: () => import("./pages/profile.js"), access: "signed-in" },
  { path: "/dashboard", page: () => import("./pages/dashboard.js"), access: "creator" },
  { path: "/dashboard/events/new", page: () => import("./pages/event-form.js"), access: "creator" },
  { path: "/dashboard/events/:id/edit", page: () => import("./pages/event-form.js"), access: "creator" },
  { path: "/dashboard/events/:id/attendees", page: () => import("./pages/attendees.js"), access: "creator" },
  { path: "/reference", page: () => import("./pages/reference.js") },
  { path: "/reset-password", page: () => import("./pages/reset-password.js") },
];
