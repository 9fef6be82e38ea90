// Routes for notifications: see rest/route.ts for how a route is declared.
export {};
