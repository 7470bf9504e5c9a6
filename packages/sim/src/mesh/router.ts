import {
  BROADCAST_NUM,
  LORA_MAX_PAYLOAD_BYTES,
  PortNum,
  droppedByCorePortnumsOnly,
  rebroadcastDelayMs,
  retransmissionDelayMs,
  txDelayMs,
} from '@compotastic/mesh';
import type { SimEvent } from '../engine/event-queue.js';
import type { SimNode } from '../world/node.js';
import type { Simulation } from '../simulation.js';
import { AirtimeTracker } from './airtime.js';
import { PacketHistory } from './history.js';
import { NodeDb } from './node-db.js';
import { defaultChannelIdentities } from './channels.js';
import { Priority, RoutingError, copyPacket, isBroadcast, makeRoutingPacket, type SimPacket } from './packet.js';

/** Transmissions a reliable packet gets in total from its originator (NUM_RELIABLE_RETX). */
export const NUM_RELIABLE_RETX = 3;
/** Transmissions an intermediate next-hop relay gets (NUM_INTERMEDIATE_RETX). */
export const NUM_INTERMEDIATE_RETX = 2;

interface PendingRetransmission {
  packet: SimPacket;
  numRetransmissions: number;
  nextTxMs: number;
  timer: SimEvent | null;
}

/**
 * The firmware's routing stack for one node (ReliableRouter -> NextHopRouter -> FloodingRouter -> Router, plus the
 * radio interface's transmit queue and delays), as of Meshtastic 2.6.11.
 */
export class MeshRouter {
  readonly history: PacketHistory;
  readonly airtime = new AirtimeTracker();
  readonly nodeDb: NodeDb;
  /** Outgoing queue, kept sorted by the firmware's priority rules. */
  readonly txQueue: SimPacket[] = [];
  private readonly pending = new Map<string, PendingRetransmission>();
  private txTimer: SimEvent | null = null;
  private packetCounter: number;

  constructor(private readonly sim: Simulation, private readonly node: SimNode) {
    this.history = new PacketHistory(sim.scenario.firmware.historySize, node.byte, node.num);
    this.nodeDb = new NodeDb(sim.scenario.firmware.nodeDbSize);
    this.packetCounter = node.rng.uint32() & 0x3ff;
  }

  private get now(): number {
    return this.sim.now;
  }

  /** generatePacketId: a rolling 10-bit counter under 22 random bits. */
  nextPacketId(): number {
    for (;;) {
      this.packetCounter = (this.packetCounter + 1) & 0x3ff;
      const id = (this.packetCounter | (this.node.rng.uint32() << 10)) >>> 0;
      if (id !== 0) return id;
    }
  }

  /**
   * Power loss: everything held in RAM goes (queues, retransmissions, packet history, airtime counters). The node DB
   * stays: the firmware keeps it in flash, so after a reboot the node still knows its neighbours, their hop counts and
   * the next hops it learned.
   */
  reset(): void {
    for (const p of this.pending.values()) this.sim.scheduler.cancel(p.timer);
    this.pending.clear();
    this.txQueue.length = 0;
    this.sim.scheduler.cancel(this.txTimer);
    this.txTimer = null;
    this.history.clear();
    this.airtime.reset();
  }

  get queueFree(): number {
    return this.sim.scenario.firmware.txQueueLength - this.txQueue.length;
  }

  private isRebroadcaster(): boolean {
    return this.node.role !== 'CLIENT_MUTE' && this.node.rebroadcastMode !== 'NONE';
  }

  private isToUs(p: SimPacket): boolean {
    return p.to === this.node.num;
  }

  private isFromUs(p: SimPacket): boolean {
    return p.from === this.node.num;
  }

  // ---------------------------------------------------------------- sending

  /** Router::sendLocal: a packet from our own application or phone. Returns the Routing error (0 = queued). */
  sendLocal(p: SimPacket): number {
    if (p.from === 0) p.from = this.node.num;
    if (p.id === 0) p.id = this.nextPacketId();
    if (this.isToUs(p)) {
      this.handleLocal(p);
      return RoutingError.NONE;
    }
    return this.reliableSend(p);
  }

  /** ReliableRouter::send. */
  private reliableSend(p: SimPacket): number {
    if (p.wantAck) {
      if (isBroadcast(p.to) && p.hopLimit === 0) p.hopLimit = this.node.hopLimit;
      this.startRetransmission(copyPacket(p), NUM_RELIABLE_RETX);
    }
    // Time spent sending this packet is time we could not hear an ACK for the others.
    const airtime = this.node.phy.packetTimeMs(p.onAirBytes);
    for (const rec of this.pending.values()) {
      if (rec.packet.id !== p.id) this.rescheduleRetransmission(rec, rec.nextTxMs + airtime);
    }
    return isBroadcast(p.to) ? this.floodingSend(p) : this.nextHopSend(p);
  }

  /** FloodingRouter::send. */
  private floodingSend(p: SimPacket): number {
    p.relayNode = this.node.byte;
    this.history.check(p, this.now, true);
    return this.routerSend(p);
  }

  /** NextHopRouter::send. */
  private nextHopSend(p: SimPacket): number {
    p.relayNode = this.node.byte;
    this.history.check(p, this.now, true);
    p.nextHop = this.getNextHop(p.to, p.relayNode);
    if ((!this.isFromUs(p) || !p.wantAck) && p.nextHop !== 0 && (p.hopLimit > 0 || p.wantAck)) {
      this.startRetransmission(copyPacket(p), NUM_INTERMEDIATE_RETX);
    }
    return this.routerSend(p);
  }

  private getNextHop(to: number, relayNode: number): number {
    if (isBroadcast(to)) return 0;
    const nextHop = this.nodeDb.nextHop(to);
    return nextHop !== relayNode ? nextHop : 0;
  }

  /** Router::send: duty cycle, encoding limits, then the radio's queue. */
  private routerSend(p: SimPacket): number {
    const region = this.node.phy.region;
    if (!this.sim.scenario.firmware.overrideDutyCycle && region.dutyCyclePercent < 100) {
      const hourly = this.airtime.txUtilizationPercent(this.now);
      if (hourly > region.dutyCyclePercent) {
        this.sim.traceDrop(this.node, p, 'duty_cycle');
        if (this.isFromUs(p)) this.abortSendAndNak(RoutingError.DUTY_CYCLE_LIMIT, p);
        return RoutingError.DUTY_CYCLE_LIMIT;
      }
    }
    if (isBroadcast(p.to)) p.wantAck = false;
    // Every transmission names us as its relayer, whoever originated it.
    p.relayNode = this.node.byte;
    if (this.isFromUs(p)) p.hopStart = p.hopLimit;
    if (p.onAirBytes > LORA_MAX_PAYLOAD_BYTES) {
      this.sim.traceDrop(this.node, p, 'too_large');
      this.abortSendAndNak(RoutingError.TOO_LARGE, p);
      return RoutingError.TOO_LARGE;
    }
    if (p.priority === Priority.UNSET) p.priority = p.wantAck ? Priority.RELIABLE : Priority.DEFAULT;
    // Encrypted with the channel it names (a relayed copy keeps its originator's); an unknown index falls back to primary.
    if (p.channelId === undefined) {
      const ids = this.channelIds();
      p.channelId = ids[p.channel] ?? ids[0] ?? undefined;
    }
    return this.radioSend(p);
  }

  /** RadioLibInterface::send: queue it and arm the transmit delay. */
  private radioSend(p: SimPacket): number {
    if (!this.node.up) {
      this.sim.traceDrop(this.node, p, 'node_down');
      return RoutingError.NO_INTERFACE;
    }
    if (!this.enqueue(p)) {
      this.sim.traceDrop(this.node, p, 'tx_queue_full');
      return RoutingError.NO_INTERFACE;
    }
    this.setTransmitDelay();
    return RoutingError.NONE;
  }

  /** MeshPacketQueue ordering: higher priority first; at equal priority relayed packets before our own; else FIFO. */
  private before(a: SimPacket, b: SimPacket): boolean {
    if (a.priority !== b.priority) return a.priority > b.priority;
    return a.from !== this.node.num && b.from === this.node.num;
  }

  private enqueue(p: SimPacket): boolean {
    const q = this.txQueue;
    if (q.length >= this.sim.scenario.firmware.txQueueLength) {
      // replaceLowerPriorityPacket: evict the last (lowest) entry if p outranks it.
      const last = q[q.length - 1] as SimPacket;
      if (p.priority <= last.priority) return false;
      q.pop();
      this.sim.traceDrop(this.node, last, 'tx_queue_full');
    }
    let i = q.length;
    while (i > 0 && this.before(p, q[i - 1] as SimPacket)) i--;
    q.splice(i, 0, p);
    return true;
  }

  findInTxQueue(from: number, id: number): boolean {
    return this.txQueue.some((q) => q.from === from && q.id === id);
  }

  /** Router::cancelSending. */
  cancelSending(from: number, id: number, reason = 'relay_cancelled'): boolean {
    const i = this.txQueue.findIndex((q) => q.from === from && q.id === id);
    if (i < 0) return false;
    const [p] = this.txQueue.splice(i, 1);
    this.sim.traceDrop(this.node, p as SimPacket, reason);
    return true;
  }

  /** setTransmitDelay: arm the timer for the packet at the front, unless one is armed. */
  setTransmitDelay(): void {
    if (this.txTimer !== null || !this.node.up) return;
    const p = this.txQueue[0];
    if (!p) return;
    const slot = this.node.phy.preset.slotTimeMs;
    let delay: number;
    if (p.rxSnr === 0 && p.rxRssi === 0) {
      delay = txDelayMs(this.node.rng, this.airtime.channelUtilizationPercent(this.now), slot);
    } else {
      delay = rebroadcastDelayMs(this.node.rng, p.rxSnr, slot, this.node.role === 'ROUTER');
    }
    this.txTimer = this.sim.scheduler.schedule(delay, this.onTransmitDelayCompletedFn);
  }

  private readonly onTransmitDelayCompletedFn = (): void => this.onTransmitDelayCompleted();

  private onTransmitDelayCompleted(): void {
    this.txTimer = null;
    if (this.txQueue.length === 0 || !this.node.up) return;
    if (this.sim.isTransmitting(this.node) || this.sim.isActivelyReceiving(this.node)) {
      this.setTransmitDelay();
      return;
    }
    if (this.sim.isChannelActive(this.node)) {
      this.sim.traceCad(this.node);
      this.setTransmitDelay();
      return;
    }
    const p = this.txQueue.shift() as SimPacket;
    this.sim.startTransmission(this.node, p);
  }

  /** Called by the channel when our transmission ends. */
  onTransmitDone(): void {
    this.setTransmitDelay();
  }

  // ---------------------------------------------------------------- reliability

  private static key(from: number, id: number): string {
    return `${from}:${id}`;
  }

  private startRetransmission(p: SimPacket, numReTx: number): void {
    this.stopRetransmission(p.from, p.id);
    const rec: PendingRetransmission = { packet: p, numRetransmissions: numReTx - 1, nextTxMs: 0, timer: null };
    this.pending.set(MeshRouter.key(p.from, p.id), rec);
    this.setNextTx(rec);
  }

  private setNextTx(rec: PendingRetransmission): void {
    const airtime = this.node.phy.packetTimeMs(rec.packet.onAirBytes);
    const d = retransmissionDelayMs(airtime, this.airtime.channelUtilizationPercent(this.now), this.node.phy.preset.slotTimeMs);
    this.rescheduleRetransmission(rec, this.now + d);
  }

  private rescheduleRetransmission(rec: PendingRetransmission, atMs: number): void {
    rec.nextTxMs = atMs;
    this.sim.scheduler.cancel(rec.timer);
    rec.timer = this.sim.scheduler.scheduleAt(atMs, () => this.doRetransmission(rec));
  }

  hasPending(from: number, id: number): boolean {
    return this.pending.has(MeshRouter.key(from, id));
  }

  stopRetransmission(from: number, id: number): boolean {
    const key = MeshRouter.key(from, id);
    const rec = this.pending.get(key);
    if (!rec) return false;
    // Only cancel the queued copy once we have transmitted at least once.
    if (rec.numRetransmissions < NUM_RELIABLE_RETX - 1) this.cancelSending(rec.packet.from, rec.packet.id, 'retransmission_stopped');
    this.sim.scheduler.cancel(rec.timer);
    this.pending.delete(key);
    return true;
  }

  private doRetransmission(rec: PendingRetransmission): void {
    rec.timer = null;
    const p = rec.packet;
    if (!this.node.up) return;
    if (rec.numRetransmissions === 0) {
      if (this.isFromUs(p)) {
        this.sim.traceAck(this.node, p.from, p.id, 'nak', RoutingError.MAX_RETRANSMIT);
        this.sendAckNak(RoutingError.MAX_RETRANSMIT, p.from, p.id, p.channel);
      }
      this.stopRetransmission(p.from, p.id);
      return;
    }
    this.sim.traceRetransmit(this.node, p, rec.numRetransmissions);
    if (!isBroadcast(p.to)) {
      if (rec.numRetransmissions === 1) {
        // Last try: forget the learned route and flood.
        p.nextHop = 0;
        this.nodeDb.setNextHop(p.to, 0);
        this.floodingSend(copyPacket(p));
      } else {
        this.nextHopSend(copyPacket(p));
      }
    } else {
      this.floodingSend(copyPacket(p));
    }
    rec.numRetransmissions--;
    if (this.pending.get(MeshRouter.key(p.from, p.id)) === rec) this.setNextTx(rec);
  }

  /** Routing ACK/NAK (RoutingModule::sendAckNak). */
  sendAckNak(error: number, to: number, idFrom: number, channel: number, hopLimit?: number): void {
    const p = makeRoutingPacket(this.node.index, this.node.num, to, this.nextPacketId(), idFrom, error, hopLimit ?? this.node.hopLimit, channel);
    this.sendLocal(p);
  }

  private abortSendAndNak(error: number, p: SimPacket): void {
    this.sendAckNak(error, p.from === 0 ? this.node.num : p.from, p.id, p.channel);
  }

  /** RoutingModule::getHopLimitForResponse. */
  hopLimitForResponse(hopStart: number, hopLimit: number): number {
    const configured = this.node.hopLimit;
    if (hopStart !== 0) {
      const used = hopStart - hopLimit;
      if (used > configured) return used;
      if (used + 2 < configured) return used + 2;
    }
    return configured;
  }

  // ---------------------------------------------------------------- receiving

  /** A packet addressed to ourselves (from our own app, or an ACK/NAK we generated). */
  private handleLocal(p: SimPacket): void {
    this.sim.deliverToApp(this.node, p, 0, 0, false);
    if (p.portnum === PortNum.ROUTING_APP && p.requestId !== 0) this.stopRetransmission(this.node.num, p.requestId);
    else if (p.wantAck) this.sendAckNak(RoutingError.NONE, p.from, p.id, p.channel, 0);
  }

  /** The node's channel slots by identity. */
  channelIds(): (string | null)[] {
    return this.node.channelIds ?? defaultChannelIdentities(this.node.phy.preset.displayName);
  }

  /** A packet received off the air (after the radio's collision checks). */
  onRadioReceive(received: SimPacket, rxSnr: number, rxRssi: number): void {
    // perhapsDecode: find our channel with the packet's hash and key; it stores our index for that channel.
    let p = received;
    // KNOWN_ONLY decodes nothing from a node whose NodeInfo it has not heard.
    if (this.node.rebroadcastMode === 'KNOWN_ONLY' && p.from !== this.node.num && !this.nodeDb.user(p.from)) {
      this.receivedUndecoded(p, rxSnr, rxRssi);
      return;
    }
    if (p.channelId !== undefined) {
      const index = this.channelIds().indexOf(p.channelId);
      if (index < 0) {
        this.receivedUndecoded(p, rxSnr, rxRssi);
        return;
      }
      if (index !== p.channel) p = { ...p, channel: index };
    }
    this.updateNodeDb(p, rxSnr);
    if (this.shouldFilterReceived(p, rxSnr, rxRssi)) return;
    this.handleReceived(p, rxSnr, rxRssi);
  }

  /**
   * A packet on a channel we do not have (2.6.11): it took the air and went through duplicate handling, but nothing
   * reads it (no node DB update, no delivery, no module, no ACK). The RoutingModule sees undecoded packets too, so a
   * rebroadcaster relays it as it is, unless its rebroadcast mode keeps to its own channels (LOCAL_ONLY, KNOWN_ONLY).
   */
  private receivedUndecoded(p: SimPacket, rxSnr: number, rxRssi: number): void {
    if (this.shouldFilterReceived(p, rxSnr, rxRssi)) return;
    this.sim.traceDrop(this.node, p, 'undecodable');
    if (this.node.rebroadcastMode === 'LOCAL_ONLY' || this.node.rebroadcastMode === 'KNOWN_ONLY') return;
    this.perhapsRelay(p, rxSnr, rxRssi);
  }

  private updateNodeDb(p: SimPacket, rxSnr: number): void {
    if (p.from === this.node.num) return;
    this.nodeDb.heardFrom(p.from, this.now, rxSnr, p.hopStart !== 0 && p.hopStart >= p.hopLimit ? p.hopStart - p.hopLimit : -1);
  }


  private relayCopy(p: SimPacket, rxSnr: number, rxRssi: number): SimPacket {
    const c = copyPacket(p);
    c.rxSnr = rxSnr;
    c.rxRssi = rxRssi;
    c.hopLimit = p.hopLimit - 1;
    // Priority is not carried on air: the relay's Router::send assigns it afresh.
    c.priority = Priority.UNSET;
    return c;
  }

  /**
   * ReliableRouter::shouldFilterReceived and the flooding / next-hop duplicate handling below it. (A repeated copy from
   * the originator is re-relayed there, by rebroadcasters only; 2.5's extra resend here went in 2.6.)
   */
  private shouldFilterReceived(p: SimPacket, rxSnr: number, rxRssi: number): boolean {
    if (p.from === this.node.num) {
      // Someone rebroadcast our packet: that is the implicit ACK.
      if (this.hasPending(p.from, p.id)) {
        const rec = this.pending.get(MeshRouter.key(p.from, p.id)) as PendingRetransmission;
        this.sim.traceAck(this.node, p.from, p.id, 'implicit', RoutingError.NONE);
        this.sendAckNak(RoutingError.NONE, p.from, p.id, rec.packet.channel);
        this.stopRetransmission(p.from, p.id);
      }
    }
    // While we received this packet we could not have heard an (implicit) ACK: push every pending retry back by its airtime.
    if (this.pending.size > 0) {
      const airtime = this.node.phy.packetTimeMs(p.onAirBytes);
      for (const rec of this.pending.values()) this.rescheduleRetransmission(rec, rec.nextTxMs + airtime);
    }
    return isBroadcast(p.to) ? this.floodingFilter(p, rxSnr, rxRssi) : this.nextHopFilter(p, rxSnr, rxRssi);
  }

  private floodingFilter(p: SimPacket, rxSnr: number, rxRssi: number): boolean {
    if (!this.history.check(p, this.now, true).seen) return false;
    this.sim.traceDuplicate(this.node, p);
    const isRepeated = p.hopStart > 0 && p.hopStart === p.hopLimit;
    if (isRepeated) {
      if (!this.findInTxQueue(p.from, p.id)) this.perhapsRebroadcast(p, rxSnr, rxRssi);
    } else {
      this.perhapsCancelDupe(p);
    }
    return true;
  }

  private nextHopFilter(p: SimPacket, rxSnr: number, rxRssi: number): boolean {
    const seen = this.history.check(p, this.now, true);
    if (!seen.seen) return false;
    this.sim.traceDuplicate(this.node, p);
    this.stopRetransmission(p.from, p.id);
    if (seen.wasFallback) {
      if (!this.findInTxQueue(p.from, p.id)) this.perhapsRelay(p, rxSnr, rxRssi);
    } else {
      const isRepeated = p.hopStart > 0 && p.hopStart === p.hopLimit;
      if (isRepeated) {
        if (!this.findInTxQueue(p.from, p.id) && !this.perhapsRelay(p, rxSnr, rxRssi) && this.isToUs(p) && p.wantAck) {
          this.sendAckNak(RoutingError.NONE, p.from, p.id, p.channel, 0);
        }
      } else if (!seen.weWereNextHop) {
        this.perhapsCancelDupe(p);
      }
    }
    return true;
  }

  /** Non-routers drop their queued relay when someone else already relayed the packet. */
  private perhapsCancelDupe(p: SimPacket): void {
    if (this.node.role !== 'ROUTER') this.cancelSending(p.from, p.id, 'relay_cancelled');
  }

  /** FloodingRouter::perhapsRebroadcast (used when the originator repeats). */
  private perhapsRebroadcast(p: SimPacket, rxSnr: number, rxRssi: number): boolean {
    if (this.isToUs(p) || p.hopLimit <= 0 || this.isFromUs(p) || p.id === 0 || !this.isRebroadcaster()) return false;
    const c = this.relayCopy(p, rxSnr, rxRssi);
    c.nextHop = 0;
    this.sim.traceRelay(this.node, c);
    // Router::send, not our own send(): the copy is not a new packet of ours to track.
    this.routerSend(c);
    return true;
  }

  /** NextHopRouter::perhapsRelay. */
  private perhapsRelay(p: SimPacket, rxSnr: number, rxRssi: number): boolean {
    if (this.isToUs(p) || this.isFromUs(p) || p.hopLimit <= 0) return false;
    if (p.nextHop !== 0 && p.nextHop !== this.node.byte) return false;
    if (!this.isRebroadcaster()) return false;
    const c = this.relayCopy(p, rxSnr, rxRssi);
    this.sim.traceRelay(this.node, c);
    this.nextHopSend(c);
    return true;
  }

  /** Router::handleReceived: port filtering, delivery to our app, then the routing sniffers. */
  private handleReceived(p: SimPacket, rxSnr: number, rxRssi: number): void {
    if (this.node.rebroadcastMode === 'CORE_PORTNUMS_ONLY' && droppedByCorePortnumsOnly(p.portnum, this.sim.scenario.firmware.corePortnumsPolicy)) {
      this.cancelSending(p.from, p.id, 'portnum_filtered');
      this.sim.traceDrop(this.node, p, 'portnum_filtered');
      return;
    }
    // MeshModule::callModules: the traceroute module alters the packet before it is relayed or delivered.
    const q = this.node.modules.alter(p, rxSnr);
    if (this.isToUs(q) || isBroadcast(q.to)) this.sim.deliverToApp(this.node, q, rxSnr, rxRssi, true);
    const answer = this.node.modules.received(q);
    this.reliableSniff(q, answer?.reply != null);
    this.nextHopSniff(q, rxSnr, rxRssi);
    if (answer) this.node.modules.answer(answer);
  }

  /** ReliableRouter::sniffReceived: ACK what is addressed to us (unless a module replied), stop retransmitting what got ACKed. */
  private reliableSniff(p: SimPacket, moduleReplied: boolean): void {
    if (!this.isToUs(p)) return;
    if (p.wantAck && !moduleReplied) {
      if (!p.requestId && !p.replyId) {
        this.sendAckNak(RoutingError.NONE, p.from, p.id, p.channel, this.hopLimitForResponse(p.hopStart, p.hopLimit));
      } else if ((p.hopStart > 0 && p.hopStart === p.hopLimit) || p.nextHop !== 0) {
        this.sendAckNak(RoutingError.NONE, p.from, p.id, p.channel, 0);
      }
    } else if (p.nextHop === this.node.byte && p.hopLimit > 0) {
      this.sendAckNak(RoutingError.NONE, p.from, p.id, p.channel, 0);
    }
    if (p.requestId !== 0) {
      // An ACK, a NAK or a reply: either way, stop retransmitting. (An implicit ACK may have stopped it already.)
      const isRouting = p.portnum === PortNum.ROUTING_APP;
      this.stopRetransmission(p.to, p.requestId);
      if (isRouting) this.sim.traceAck(this.node, p.to, p.requestId, p.routingError === RoutingError.NONE ? 'ack' : 'nak', p.routingError);
    }
  }

  /** NextHopRouter::sniffReceived: learn next hops from ACKs and replies, stop relaying ACKed DMs, then relay. */
  private nextHopSniff(p: SimPacket, rxSnr: number, rxRssi: number): void {
    if (p.requestId !== 0 || p.replyId !== 0) {
      if (p.from !== 0) {
        if (this.nodeDb.has(p.from)) {
          const now = this.now;
          const origin = this.sim.indexOfNum(p.to);
          if (
            origin >= 0 &&
            (this.history.wasRelayer(p.relayNode, p.requestId, origin, now) ||
              (p.hopStart !== 0 && p.hopStart === p.hopLimit && this.history.wasRelayer(this.node.byte, p.requestId, origin, now)))
          ) {
            this.nodeDb.setNextHop(p.from, p.relayNode);
          }
        }
      }
      if (!this.isToUs(p)) {
        // Someone else's DM got its ACK or reply: no need to relay or retry it any more.
        this.cancelSending(p.to, p.requestId, 'relay_cancelled');
        this.stopRetransmission(p.to, p.requestId);
      }
    }
    this.perhapsRelay(p, rxSnr, rxRssi);
  }
}

export { BROADCAST_NUM };
