// Entry point of the child processes that run contenders needing Node flags.
import { serveChild } from './harness/hosts.js';

serveChild();
