import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { SerialPort } from 'serialport';
import { MeshError } from './errors.js';
import { FRAME_START2 } from './framing.js';
import { StreamTransport } from './stream-transport.js';

/** The firmware's serial console speed. */
export const MESHTASTIC_SERIAL_BAUD = 115200;

/**
 * Sent before the first frame, as the Meshtastic Python client does: line activity wakes a sleeping device, and a run
 * of START2 (never START1) makes a firmware parser stuck inside a broken frame resynchronise before our first header.
 */
export const SERIAL_WAKE_PREAMBLE: Uint8Array = new Uint8Array(32).fill(FRAME_START2);

export interface SerialTransportOptions {
  /** Device path, e.g. /dev/ttyUSB0, /dev/ttyACM0, /dev/cu.usbserial-0001 or COM3. */
  path: string;
  /** Default 115200 (8N1). */
  baudRate?: number;
  /** Pause after the wake-up preamble before the first frame (default 100 ms, as the Python client). */
  wakeDelayMs?: number;
}

/** Why a port could not be opened, as a MeshError code. */
export type SerialOpenErrorCode = 'PORT_NOT_FOUND' | 'PERMISSION_DENIED' | 'PORT_BUSY' | 'PORT_OPEN_FAILED';

/**
 * Map an open failure to a typed error. The Node binding reports errno only as text ("Error: No such file or
 * directory, cannot open /dev/ttyUSB0", "Error Resource temporarily unavailable Cannot lock port", Windows' "File not
 * found" / "Access denied"), so both the errno code and the text are checked.
 */
export function serialOpenError(path: string, err: Error & { code?: unknown }): MeshError {
  const code = typeof err.code === 'string' ? err.code : '';
  const text = err.message;
  const make = (c: SerialOpenErrorCode, msg: string): MeshError => new MeshError(c, msg, { cause: err });
  if (code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO' || /No such (file|device)|File not found|cannot find the file/i.test(text)) {
    return make('PORT_NOT_FOUND', `no serial port at ${path} (is the radio plugged in? \`ls /dev/ttyUSB* /dev/ttyACM*\`)`);
  }
  if (code === 'EACCES' || code === 'EPERM' || /Permission denied|Operation not permitted|Access (is )?denied/i.test(text)) {
    return make('PERMISSION_DENIED', `permission denied opening ${path} (on Linux add yourself to the dialout group, then log in again)`);
  }
  if (code === 'EBUSY' || code === 'EAGAIN' || /Cannot lock port|Resource temporarily unavailable|resource busy/i.test(text)) {
    return make('PORT_BUSY', `${path} is in use by another program (another client, a serial monitor, ModemManager?)`);
  }
  return make('PORT_OPEN_FAILED', `cannot open ${path}: ${text}`);
}

/**
 * A @meshtastic/core Transport over a serial port (a radio's USB serial, or a pseudo-terminal). Framing, debug output
 * and disconnect handling are StreamTransport's, shared with TcpTransport; this class only opens and closes the port.
 * The port is locked while open, so a second client gets PORT_BUSY instead of interleaving frames. Unplugging the radio
 * reports DeviceDisconnected and fails later writes with ECONNRESET, as a dropped TCP link does.
 */
export class SerialTransport extends StreamTransport {
  readonly path: string;

  private constructor(port: SerialPort, path: string) {
    const label = `serial port ${path}`;
    super(port, {
      label,
      close: () => closePort(port),
      lossReason: (arg) =>
        arg instanceof Error && (arg as { disconnected?: boolean }).disconnected ? `${label} disconnected (unplugged or reset?): ${arg.message}` : `${label} closed`,
    });
    this.path = path;
  }

  /** Open the port, send the wake-up preamble and resolve once the device may take its first frame. */
  static async connect(options: SerialTransportOptions): Promise<SerialTransport> {
    const { path } = options;
    const baudRate = options.baudRate ?? MESHTASTIC_SERIAL_BAUD;
    if (!Number.isInteger(baudRate) || baudRate <= 0) throw new MeshError('INVALID_BAUD_RATE', `baud rate must be a positive integer, got ${baudRate}`);
    if (process.platform !== 'win32') {
      // Real errno codes (the binding only gives text); also spares loading the native binding for a typo'd path.
      await access(path, constants.R_OK | constants.W_OK).catch((err: Error) => {
        throw serialOpenError(path, err);
      });
    }
    // Loaded on first use: a platform without a prebuilt binding can still use everything else in this entry.
    const { SerialPort } = await import('serialport');
    const port = new SerialPort({
      path,
      baudRate,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      autoOpen: false,
      // Keep DTR up on close, as the Python client does: dropping it resets many ESP32 boards.
      hupcl: false,
    });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(serialOpenError(path, err)) : resolve())));
    watchHangup(port);
    const transport = new SerialTransport(port, path);
    try {
      await transport.writeRaw(SERIAL_WAKE_PREAMBLE);
    } catch (e) {
      await transport.disconnect();
      throw e;
    }
    await new Promise((r) => setTimeout(r, options.wakeDelayMs ?? 100));
    return transport;
  }
}

/** The part of @serialport/bindings-cpp's unix Poller used here. */
interface HangupPoller {
  once(event: 'disconnect', listener: (err: (Error & { canceled?: boolean }) | null) => void): unknown;
}

/**
 * @serialport/bindings-cpp 13 retries a read that returned 0 bytes at once, and a hung-up tty (USB adapter unplugged,
 * pty closed) returns 0 forever: if the hangup lands while a read is in flight, the stream spins and never reports the
 * loss. The binding's poller does see the hangup (POLLERR), so listen for it and close the port with a disconnected
 * error, as the stream's own disconnect path would (the Windows binding has no poller and reads differently).
 */
function watchHangup(port: SerialPort): void {
  const poller = (port.port as { poller?: HangupPoller } | undefined)?.poller;
  poller?.once('disconnect', (err) => {
    if (err?.canceled || !port.isOpen) return;
    const lost = Object.assign(new Error(err?.message ?? 'line hung up'), { disconnected: true });
    port.close(() => undefined, lost);
  });
}

function closePort(port: SerialPort): Promise<void> {
  if (!port.isOpen) return Promise.resolve();
  return new Promise<void>((resolve) => port.close(() => resolve()));
}
