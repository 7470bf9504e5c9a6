// @compotastic/swarm: the real orchestrator on every node of a simulated mesh (@compotastic/sim's virtual radios, in
// virtual time). Kept out of @compotastic/orchestrator so a node on a real radio does not install the simulator.
export { runSwarm, verifyOutputs, simCapabilities, type SwarmOptions, type SwarmReport, type JobRecord, type SwarmContext, type SwarmNodeInfo, type SwarmNodeSetup } from './swarm.js';
export { SimNodeHost, simClock, type SimHostOptions } from './host.js';
export { SimBleHub, SimBleAdapter, SIM_BLE_PATH } from './ble.js';
export { parseWorkload, specFor, inputFor, WorkloadModel, WORKLOAD_MODEL_ID, WORKLOAD_MODEL_VERSION, type JobTemplate } from './workload.js';
