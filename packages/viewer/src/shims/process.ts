// The logger reads `process?.version` at module load, which throws where no
// `process` global exists; define a minimal one before anything else loads.
const g = globalThis as { process?: { version: string; env: Record<string, string> } };
g.process ??= { version: '', env: {} };
export {};
