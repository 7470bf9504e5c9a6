// @compotastic/bench: the harness behind `pnpm bench`, for writing suites.
export { defineSuite, SkipContender, ratioKey, caseRatios } from './harness/suite.js';
export type {
  BenchCase, Contender, GateSpec, RatioSpec, Runner, SetupContext, Suite, SuiteEnvironment, Work,
} from './harness/suite.js';
export type { SuiteResult, CaseResult, ContenderResult, RatioResult, MachineInfo } from './harness/results.js';
export type { GateOutcome, GatesFile } from './harness/gates.js';
export { BINARY_PAIRS, fetchBinaryPair, pairPaths, isCached, FixtureError } from './fixtures/npm-binaries.js';
export type { BinaryPair, BinaryPairSpec, FetchOptions } from './fixtures/npm-binaries.js';
