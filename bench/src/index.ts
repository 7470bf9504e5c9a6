// Filled in by the work that owns this package.
export {};
