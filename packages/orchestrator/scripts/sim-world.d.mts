import type { AttackWorldFactory } from '../src/attacks/index.js';

export declare const simWorld: AttackWorldFactory;
