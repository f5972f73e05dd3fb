package importer

import (
	"context"
	"sync"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/ledger"
)

// claimBatchSize is how many registrations one ledger transaction claims on the batched path.
const claimBatchSize = 1000

// batchLedger is the ledger's batched rerun path (*ledger.Ledger has it): ClaimDone claims,
// in one transaction, the registrations already done and leaves the others alone. A ledger
// without it gets every registration claimed one by one.
type batchLedger interface {
	ClaimDone(ctx context.Context, reqs []ledger.ClaimRequest) ([]ledger.State, error)
}

// pass is the state of one submission pass: its bounds and the registrations in flight.
type pass struct {
	f     *fileRun
	ctx   context.Context
	slots chan struct{} // registrations calling Amili
	sem   chan struct{} // registrations being prepared or calling Amili
	wg    sync.WaitGroup
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

// flush submits one window of registrations in the file's order: the registrations already done are
// claimed together in one ledger transaction and counted; each of the others is submitted in
// its own goroutine (its PDFs checked before it is claimed). It reports false when the run was
// cancelled or the ledger failed.
func (p *pass) flush(regs []*domain.Registration) bool {
	f := p.f
	if len(regs) == 0 {
		return true
	}
	var done []ledger.State
	if bl, ok := f.imp.deps.Ledger.(batchLedger); ok {
		reqs := make([]ledger.ClaimRequest, len(regs))
		for i, reg := range regs {
			reqs[i] = f.claimRequest(reg)
		}
		var err error
		if done, err = bl.ClaimDone(context.WithoutCancel(p.ctx), reqs); err != nil {
			// The whole batch rolled back: nothing was claimed, nothing is sent.
			s, release := f.newSub(p.ctx, regs[0])
			s.ledgerFailed("claim", err)
			release()
			return false
		}
		n := 0
		for _, st := range done {
			if st != "" {
				f.countDone(st)
				n++
			}
		}
		f.imp.progress.advance(n)
	}
	for i, reg := range regs {
		if done != nil && done[i] != "" {
			continue
		}
		if !p.start(func() { f.submit(p.ctx, reg, p.slots) }) {
			return false
		}
	}
	return true
}
