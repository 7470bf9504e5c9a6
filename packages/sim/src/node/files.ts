import { readFile } from 'node:fs/promises';
import { SimError } from '../errors.js';
import type { ScenarioConfig } from '../scenario.js';
import { BUILTIN_SCENARIOS, builtinScenario } from '../scenarios/index.js';

export function listBuiltinScenarios(): string[] {
  return Object.keys(BUILTIN_SCENARIOS);
}

/** A built-in scenario by name, or a scenario JSON file by path. */
export async function loadScenario(nameOrPath: string): Promise<ScenarioConfig> {
  if (Object.prototype.hasOwnProperty.call(BUILTIN_SCENARIOS, nameOrPath)) return builtinScenario(nameOrPath);
  let text: string;
  try {
    text = await readFile(nameOrPath, 'utf8');
  } catch (e) {
    throw new SimError('UNKNOWN_SCENARIO', `"${nameOrPath}" is neither a built-in scenario (${listBuiltinScenarios().join(', ')}) nor a readable file: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as ScenarioConfig;
  } catch (e) {
    throw new SimError('INVALID_SCENARIO', `${nameOrPath} is not valid JSON: ${(e as Error).message}`);
  }
}
