import { assert } from '../../core/errors.js';
import type { NodeId } from '../../core/ids.js';
import { type NewViewPlan, planNewView, primaryOf, verifyPrePrepare, verifyViewChange } from './certificates.js';
import { prePreparePayload, viewChangePayload } from './crypto.js';
import type { NewView, PrePrepare, ViewChange } from './types.js';
import { pbftTimers } from './config.js';
import type { PbftReplica } from './core.js';

/** View-change messages are kept for views up to this far above the current one (bounds memory). */
const viewsAheadMax = 64;

/**
 * The view-change protocol (§4.4, §4.5.2) of one replica: VIEW-CHANGE with the stable checkpoint
 * and the prepared certificates, NEW-VIEW from the new primary with 2f + 1 of them and the
 * re-issued pre-prepares, which every replica recomputes before it accepts the new view.
 */
export class ViewChanger {
  /** Successive view changes without a request executed (the timeout doubles with each). */
  private attempts = 0;
  private readonly received = new Map<number, Map<NodeId, ViewChange>>();
  private mine: ViewChange | null = null;
  /** The new-view that installed the current view (sent to replicas still behind). */
  private installed: NewView | null = null;
  /** Set when 2f + 1 view-changes for the view we move to arrived and its timer runs (§4.5.2). */
  private timerArmedFor = -1;

  constructor(private readonly replica: PbftReplica) {}

  timeoutTicks(): number {
    const config = this.replica.config;
    return Math.min(config.viewChangeTicksMax, config.viewChangeTicks * 2 ** Math.min(this.attempts, 16));
  }

  progressed(): void {
    this.attempts = 0;
  }

  /** The timer expired: waiting for a request (normal case) or for a new-view (during a change). */
  onTimeout(): void {
    this.start(this.replica.view + 1);
  }

  private start(view: number): void {
    const replica = this.replica;
    assert(view > replica.view, 'pbft: view changes move forward');
    replica.view = view;
    replica.changing = true;
    this.attempts += 1;
    replica.out.persist({ type: 'view', view, changing: true, floorSeq: 0 }, { sync: true });
    replica.assigned.clear();
    replica.out.setTimer(pbftTimers.viewChange, null);
    replica.viewTimerRunning = false;
    this.mine = this.makeViewChange();
    this.record(this.mine);
    replica.broadcast(this.mine);
    this.prune();
    this.afterRecord();
  }

  private makeViewChange(): ViewChange {
    const replica = this.replica;
    const prepared = [...replica.log.prepared.values()].filter((certificate) => replica.inWindow(certificate.prePrepare.seq)).sort((a, b) => a.prePrepare.seq - b.prePrepare.seq);
    const fields = { view: replica.view, stable: replica.stable.proof, prepared, replica: replica.id };
    return { type: 'view-change', ...fields, signature: replica.sign(viewChangePayload(fields)) };
  }

  resendViewChange(): void {
    if (!this.replica.changing) return;
    this.mine ??= this.makeViewChange();
    this.record(this.mine);
    this.replica.broadcast(this.mine);
  }

  private record(message: ViewChange): void {
    let byReplica = this.received.get(message.view);
    if (byReplica === undefined) this.received.set(message.view, (byReplica = new Map()));
    byReplica.set(message.replica, message);
  }

  private prune(): void {
    const replica = this.replica;
    for (const view of this.received.keys()) if (view < replica.view || (view === replica.view && !replica.changing)) this.received.delete(view);
  }

  onViewChange(from: NodeId, message: ViewChange): void {
    const replica = this.replica;
    if (from !== message.replica || message.view > replica.view + viewsAheadMax) {
      replica.dropped.stale += 1;
      return;
    }
    if (message.view < replica.view || (message.view === replica.view && !replica.changing)) {
      this.sendNewViewTo(from);
      return;
    }
    if (!verifyViewChange(replica.quorums, message)) {
      replica.dropped.certificate += 1;
      return;
    }
    this.record(message);
    this.afterRecord();
  }

  /** f + 1 replicas are past our view: join the smallest of their views; then the new primary's turn. */
  private afterRecord(): void {
    const replica = this.replica;
    const ahead = new Set<NodeId>();
    let smallest = Number.POSITIVE_INFINITY;
    for (const [view, byReplica] of this.received) {
      if (view <= replica.view) continue;
      for (const sender of byReplica.keys()) ahead.add(sender);
      smallest = Math.min(smallest, view);
    }
    if (ahead.size >= replica.f + 1) {
      this.start(smallest);
      return;
    }
    const quorum = this.received.get(replica.view);
    if (!replica.changing || quorum === undefined || quorum.size < 2 * replica.f + 1) return;
    // §4.5.2: the timer for a new-view starts once 2f + 1 replicas moved (a lone replica does not run ahead).
    if (this.timerArmedFor !== replica.view) {
      this.timerArmedFor = replica.view;
      replica.out.setTimer(pbftTimers.viewChange, this.timeoutTicks());
    }
    if (replica.isPrimary) this.sendNewView([...quorum.values()].sort((a, b) => (a.replica < b.replica ? -1 : 1)).slice(0, 2 * replica.f + 1));
  }

  private sendNewView(viewChanges: readonly ViewChange[]): void {
    const replica = this.replica;
    const plan = planNewView(replica.quorums, viewChanges);
    const prePrepares: PrePrepare[] = plan.slots.map((slot) => {
      const fields = { view: replica.view, seq: slot.seq, digest: slot.digest, replica: replica.id };
      return { type: 'pre-prepare', ...fields, request: slot.request, signature: replica.sign(prePreparePayload(fields)) };
    });
    const message: NewView = { type: 'new-view', view: replica.view, viewChanges, prePrepares, replica: replica.id };
    replica.broadcast(message);
    this.install(message, plan);
  }

  onNewView(from: NodeId, message: NewView): void {
    const replica = this.replica;
    if (from !== message.replica || from !== primaryOf(replica.quorums, message.view) || message.view < replica.view || (message.view === replica.view && !replica.changing)) {
      replica.dropped.stale += 1;
      return;
    }
    const plan = this.verifyNewView(message);
    if (plan === null) {
      replica.dropped.certificate += 1;
      return;
    }
    this.install(message, plan);
  }

  /** Recomputes what the new primary had to re-issue from its view-change set; null when it differs. */
  private verifyNewView(message: NewView): NewViewPlan | null {
    const quorums = this.replica.quorums;
    const senders = new Set(message.viewChanges.map((viewChange) => viewChange.replica));
    if (senders.size < 2 * quorums.f + 1 || senders.size !== message.viewChanges.length) return null;
    if (!message.viewChanges.every((viewChange) => viewChange.view === message.view && verifyViewChange(quorums, viewChange))) return null;
    const plan = planNewView(quorums, message.viewChanges);
    if (plan.slots.length !== message.prePrepares.length) return null;
    const matches = plan.slots.every((slot, index) => {
      const prePrepare = message.prePrepares[index]!;
      return prePrepare.view === message.view && prePrepare.seq === slot.seq && prePrepare.digest === slot.digest && verifyPrePrepare(quorums, prePrepare);
    });
    return matches ? plan : null;
  }

  private install(message: NewView, plan: NewViewPlan): void {
    const replica = this.replica;
    replica.view = message.view;
    replica.changing = false;
    this.installed = message;
    this.mine = null;
    this.timerArmedFor = -1;
    replica.out.persist({ type: 'view', view: message.view, changing: false, floorSeq: plan.maxSeq }, { sync: true });
    replica.log.clearSlots();
    replica.assigned.clear();
    replica.lastAssigned = Math.max(plan.maxSeq, replica.stableSeq);
    // min-s: adopt it when we hold its state; otherwise a peer's state transfer brings it.
    if (plan.stable.seq > replica.stableSeq) replica.adoptStable(plan.stable);
    for (const prePrepare of message.prePrepares) if (replica.inWindow(prePrepare.seq)) replica.acceptPrePrepare(prePrepare);
    this.prune();
    replica.out.setTimer(pbftTimers.viewChange, null);
    replica.viewTimerRunning = false;
    replica.armViewTimer(false);
    replica.forwardWaiting();
  }

  sendNewViewTo(peer: NodeId): void {
    if (this.installed !== null && this.installed.view === this.replica.view && !this.replica.changing) this.replica.out.send(peer, this.installed);
  }
}
