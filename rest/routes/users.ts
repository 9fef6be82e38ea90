// Routes for users: see rest/route.ts for how a route is declared.
export {};
