// @compotastic/ota/attacks: the OTA suite of the adversarial harness.
export { OTA_ATTACKS, runOtaAttacks, type OtaAttack, type OtaAttackOptions } from './ota-attacks.js';
export type { AttackReport } from './report.js';
