// @compotastic/orchestrator/attacks: the compute layer's adversarial suite, run over a simulated mesh the caller
// provides (the attack script and tests give it the simulator's), so the layer itself does not depend on a simulator.
export type { AttackReport, AttackSuite } from './report.js';
export type { AttackWorld, AttackWorldFactory, OverheardPacket } from './world.js';
export { runComputeAttacks, COMPUTE_ATTACKS, type ComputeAttack, type ComputeAttackOptions } from './compute.js';
export { Adversary, InjectionLedger, overheardMessage } from './adversary.js';
