// Running the orchestrator on simulated swarms (@compotastic/sim's virtual radios, in virtual time).
export { runSwarm, verifyOutputs, simCapabilities, type SwarmOptions, type SwarmReport, type JobRecord, type SwarmContext, type SwarmNodeInfo, type SwarmNodeSetup } from './swarm.js';
export { SimNodeHost, simClock, type SimHostOptions } from './host.js';
export { SimBleHub, SimBleAdapter, SIM_BLE_PATH } from './ble.js';
export { parseWorkload, specFor, inputFor, WorkloadModel, WORKLOAD_MODEL_ID, WORKLOAD_MODEL_VERSION, type JobTemplate } from './workload.js';
