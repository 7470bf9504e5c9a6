import type { ScenarioConfig } from '../scenario.js';
import { SimError } from '../errors.js';
import denseFestival from './dense-festival.json' with { type: 'json' };
import disasterZone from './disaster-zone.json' with { type: 'json' };
import meshtasticatorDefault from './meshtasticator-default.json' with { type: 'json' };
import ruralSparse from './rural-sparse.json' with { type: 'json' };
import urbanCanyon from './urban-canyon.json' with { type: 'json' };

/** Scenarios shipped with the simulator, by name. */
export const BUILTIN_SCENARIOS: Readonly<Record<string, ScenarioConfig>> = Object.freeze({
  'urban-canyon': urbanCanyon as unknown as ScenarioConfig,
  'disaster-zone': disasterZone as unknown as ScenarioConfig,
  'rural-sparse': ruralSparse as unknown as ScenarioConfig,
  'dense-festival': denseFestival as unknown as ScenarioConfig,
  'meshtasticator-default': meshtasticatorDefault as unknown as ScenarioConfig,
});

/** A deep copy of a built-in scenario. */
export function builtinScenario(name: string): ScenarioConfig {
  const s = Object.prototype.hasOwnProperty.call(BUILTIN_SCENARIOS, name) ? BUILTIN_SCENARIOS[name] : undefined;
  if (!s) throw new SimError('UNKNOWN_SCENARIO', `no built-in scenario "${name}" (have ${Object.keys(BUILTIN_SCENARIOS).join(', ')})`);
  return JSON.parse(JSON.stringify(s)) as ScenarioConfig;
}
