// Routes for customers: see rest/route.ts for how a route is declared.
export {};
