// Routes for announcements: see rest/route.ts for how a route is declared.
export {};
