export { startTcpServers, type TcpServerOptions, type TcpServers } from './node/tcp-server.js';
export { loadScenario, listBuiltinScenarios } from './node/files.js';
export { measureAll, measureMemoryAtNodes, type MemoryMeasurement } from './node/measure-node.js';
export { parseScenarioArgs, SCENARIO_ARGS_USAGE, type ScenarioArgs, type FlagArgument, type FlagHandler } from './scenario-args.js';
export { startSerialServers, requireSocat, SOCAT_MISSING_HINT, type SerialServerOptions, type SerialServers } from './node/serial-server.js';
