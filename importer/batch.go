package importer

import (
	"context"
	"sync"

	"github.com/amili-import/amili-import/ledger"
	"github.com/amili-import/amili-import/mapping"
)

// claimBatchSize is how many registrations one ledger transaction claims on the batched path.
const claimBatchSize = 500

// batchLedger is the ledger's batched rerun path (*ledger.Ledger has it). A ledger without it
// gets every registration claimed one by one.
type batchLedger interface {
	Settled(ctx context.Context, reqs []ledger.ClaimRequest) ([]bool, error)
	ClaimBatch(ctx context.Context, reqs []ledger.ClaimRequest) ([]ledger.Claim, error)
}

// pass is the state of one submission pass: its bounds and the batch being gathered.
type pass struct {
	f     *fileRun
	ctx   context.Context
	slots chan struct{} // registrations calling Amili
	sem   chan struct{} // registrations being prepared or calling Amili
	wg    sync.WaitGroup
	batch []*mapping.Registration
}

// start runs fn in a goroutine once sem has room; false when the run was cancelled first.
func (p *pass) start(fn func()) bool {
	select {
	case p.sem <- struct{}{}:
	case <-p.ctx.Done():
		p.f.leaveUnfinished()
		return false
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() { <-p.sem }()
		fn()
		p.f.imp.progress.step()
	}()
	return true
}

// flush submits the gathered window in the file's order: the registrations the ledger says
// are already done are claimed together in one transaction and counted; each of the others is
// submitted in its own goroutine. It reports false when the run was cancelled.
func (p *pass) flush() bool {
	f := p.f
	regs := p.batch
	p.batch = p.batch[:0:0]
	if len(regs) == 0 {
		return true
	}
	var done []bool
	bl, ok := f.imp.deps.Ledger.(batchLedger)
	reqs := make([]ledger.ClaimRequest, len(regs))
	for i, reg := range regs {
		reqs[i] = ledger.ClaimRequest{Run: f.imp.run, File: f.id, Line: reg.Line, Kind: reg.Kind, Creditor: reg.Creditor(), Items: reg.Items}
	}
	if ok {
		var err error
		if done, err = bl.Settled(context.WithoutCancel(p.ctx), reqs); err != nil {
			f.log.Warn("ledger read for a rerun failed; claiming one by one", "err", err)
			done = nil
		}
	}
	var doneReqs []ledger.ClaimRequest
	var doneRegs []*mapping.Registration
	for i := range done {
		if done[i] {
			doneReqs, doneRegs = append(doneReqs, reqs[i]), append(doneRegs, regs[i])
		}
	}
	if len(doneReqs) > 0 && !p.claimDone(bl, doneReqs, doneRegs) {
		return false
	}
	for i, reg := range regs {
		if done != nil && done[i] {
			continue
		}
		if !p.start(func() { f.submit(p.ctx, reg, p.slots) }) {
			return false
		}
	}
	return true
}

// claimDone claims registrations the ledger said are done, in one transaction. One that is not
// done after all (another process changed it in between) goes on from its claim.
func (p *pass) claimDone(bl batchLedger, reqs []ledger.ClaimRequest, regs []*mapping.Registration) bool {
	f := p.f
	claims, err := bl.ClaimBatch(context.WithoutCancel(p.ctx), reqs)
	if err != nil {
		// The whole batch rolled back: nothing was claimed, nothing is sent.
		s, release := f.newSub(p.ctx, regs[0])
		s.ledgerFailed("claim", err)
		release()
		return false
	}
	for i, cl := range claims {
		if cl.Outcome == ledger.ClaimDone {
			f.add(func(c *ledger.Counts) { c.AlreadyImported++ })
			f.imp.progress.step()
			continue
		}
		reg := regs[i]
		if !p.start(func() {
			s, release := f.newSub(p.ctx, reg)
			defer release()
			s.openPDFs()
			s.handle(cl, p.slots)
		}) {
			return false
		}
	}
	return true
}
