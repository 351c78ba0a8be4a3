// memory: the peak RSS (VmHWM, sampled every 0.5 s and at stop) of every process the bench
// started and stopped, and of the generator (the bench's own process).
import { peakRss } from '../lib/apps';
import { vmHwmMb } from '../lib/processes';

export interface MemoryResult {
  /** MB, by process name. */
  peakRssMb: Record<string, number>;
}

/** Once every other process has stopped. */
export function runMemory(): MemoryResult {
  peakRss.generator = Math.round(vmHwmMb('self'));
  return { peakRssMb: peakRss };
}
