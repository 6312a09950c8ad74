// Placeholder: the built bundle from frontend/ replaces this file (docs/dashboard.md).
export {};
