// The Twilio simulator as the bench runs it (dist/src/simulator/main.js, callbacks with no
// delay, delivered to the api's port), and what it saw.
import { join } from 'node:path';
import { cpuProfile } from './apps';
import { startProcess, type BenchProcess } from './processes';
import { DIST, FROM, LOGS, PUBLIC_BASE_URL, secrets, stamp } from './settings';

/** Starts the simulator and resolves once it listens. */
export async function startSimulator(simPort: number, apiPort: number): Promise<BenchProcess> {
  const simulator = startProcess(
    'simulator',
    join(DIST, 'src', 'simulator', 'main.js'),
    {
      NODE_ENV: 'development', // the simulator refuses production
      SIMULATOR_PORT: String(simPort),
      SIMULATOR_DELIVER_TO: `http://127.0.0.1:${apiPort}`,
      PUBLIC_BASE_URL,
      TWILIO_ACCOUNT_SID: secrets.accountSid,
      TWILIO_AUTH_TOKEN: secrets.authToken,
      TWILIO_WHATSAPP_FROM: FROM,
      SIM_CALLBACK_DELAY_MS_MIN: '0',
      SIM_CALLBACK_DELAY_MS_MAX: '0',
      LOG_LEVEL: 'info',
    },
    join(LOGS, `${stamp}-simulator.log`),
    cpuProfile('simulator'),
  );
  await simulator.waitFor(/Twilio simulator listening/);
  return simulator;
}

export async function resetSimulator(simPort: number): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${simPort}/__sim/reset`, { method: 'POST' });
  if (response.status !== 204) throw new Error(`simulator reset → ${response.status}`);
}

export interface SimulatorTruth {
  messages: { mid: string | null; createdAt: string; status: string }[];
  /** Per `mid`, how many messages the simulator accepted: 1 each when nothing was sent twice. */
  creates: { mid: string; accepted: number }[];
}

export async function simulatorTruth(simPort: number): Promise<SimulatorTruth> {
  const response = await fetch(`http://127.0.0.1:${simPort}/__sim/messages`);
  return (await response.json()) as SimulatorTruth;
}
