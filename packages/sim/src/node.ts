export { startTcpServers, type TcpServerOptions, type TcpServers } from './node/tcp-server.js';
export { loadScenario, listBuiltinScenarios } from './node/files.js';
export { measureAll, measureMemoryAtNodes, type MemoryMeasurement } from './node/measure-node.js';
