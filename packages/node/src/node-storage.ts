import type { NodeStorage } from './core/runtime.js';
import type { StateWarningHandler } from './errors.js';
import { FilePeerKeyStore } from './peer-keys.js';
import { PersistentJobStore } from './persistent-jobs.js';
import type { NodeState } from './state.js';

/**
 * A runtime's storage on a node's state directory: identity, pinned peer keys and counters (peer-keys.json), job
 * files, OTA progress log, device flash, models.json.
 */
export function nodeStorage(state: NodeState, onWarning?: StateWarningHandler): NodeStorage {
  return {
    location: state.dir,
    identity: state.identity,
    auth: new FilePeerKeyStore(state.dir, (w) => onWarning?.(w)),
    jobs: new PersistentJobStore(state.jobs, { onCorrupt: (_id, e) => onWarning?.(e) }),
    otaProgress: state.ota.store,
    flash: state.device.flash,
    recordImage: ({ modelId, version, slot }) => {
      const known = state.device.model(modelId);
      if (known && known.version === version && known.slot === slot) return;
      // One model line per device image: the manifest lists what the flash boots, nothing older.
      for (const m of state.device.models()) if (m.modelId !== modelId) state.device.removeModel(m.modelId);
      state.device.recordModel({ modelId, version, slot, installedMs: Date.now() });
    },
  };
}
