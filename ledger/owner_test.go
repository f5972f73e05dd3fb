package ledger

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ownerTTL is long enough that no heartbeat tick happens while a test runs: the tests move the
// ledger's clock instead.
const ownerTTL = time.Hour

func mustJoin(t *testing.T, l *Ledger, pid int) *Owner {
	t.Helper()
	o, err := l.Join(context.Background(), l.host, pid, ownerTTL, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Leave(context.Background()) })
	return o
}

// mustSending claims number for o and marks it sending, as a POST about to go out.
func mustSending(t *testing.T, l *Ledger, o *Owner, number string) SubmissionID {
	t.Helper()
	c, err := l.Claim(context.Background(), ownedReq(o, number))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.MarkSending(context.Background(), c.Submission.ID, o.ID); err != nil {
		t.Fatal(err)
	}
	return c.Submission.ID
}

func ownedReq(o *Owner, number string) ClaimRequest {
	r := invoiceReq(0, 0, number, "h-"+number, 100)
	r.Owner = o.ID
	return r
}

func TestClaimOfALiveOwnersSubmissionIsBusy(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	a, b := mustJoin(t, l, 0), mustJoin(t, l, 0)
	c, err := l.Claim(ctx, ownedReq(a, "N-1"))
	if err != nil || c.Outcome != ClaimNew {
		t.Fatalf("first claim: %v %v", c.Outcome, err)
	}
	id := c.Submission.ID
	for _, st := range []string{"claimed", "sending"} {
		if st == "sending" {
			if _, err := l.MarkSending(ctx, id, a.ID); err != nil {
				t.Fatal(err)
			}
		}
		got, err := l.Claim(ctx, ownedReq(b, "N-1"))
		if err != nil {
			t.Fatal(err)
		}
		if got.Outcome != ClaimBusy || got.Holder.ID != a.ID {
			t.Errorf("%s: claim by a second live owner = %v (holder %q), want busy held by %q", st, got.Outcome, got.Holder.ID, a.ID)
		}
		if _, err := l.MarkSending(ctx, id, b.ID); !errors.Is(err, ErrFenced) {
			t.Errorf("%s: MarkSending by the other owner: %v, want ErrFenced", st, err)
		}
	}
	if s, _ := l.Submission(ctx, id); s.Owner != a.ID || s.State != StateSending {
		t.Errorf("submission owner %q state %s, want %q sending", s.Owner, s.State, a.ID)
	}
}

func TestLapsedOwnerIsTakenOverAndFenced(t *testing.T) {
	ctx := context.Background()
	l, clk := mustOpenClock(t)
	a := mustJoin(t, l, 0)
	c, err := l.Claim(ctx, ownedReq(a, "N-1"))
	if err != nil {
		t.Fatal(err)
	}
	id := c.Submission.ID
	clk.Advance(2 * ownerTTL) // a was stopped: its heartbeat lapsed
	if err := a.Beat(ctx); !errors.Is(err, ErrOwnerLost) {
		t.Errorf("Beat after the lapse: %v, want ErrOwnerLost", err)
	}
	if _, err := l.MarkSending(ctx, id, a.ID); !errors.Is(err, ErrFenced) {
		t.Errorf("MarkSending by the lapsed owner: %v, want ErrFenced", err)
	}
	b := mustJoin(t, l, 0)
	got, err := l.Claim(ctx, ownedReq(b, "N-1"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcome != ClaimResume || got.TakenOver == "" {
		t.Fatalf("claim after the lapse = %v (taken over %q), want resume taken over", got.Outcome, got.TakenOver)
	}
	if _, err := l.MarkSending(ctx, id, b.ID); err != nil {
		t.Errorf("MarkSending by the new owner: %v", err)
	}
	ev, _ := l.Events(ctx, id)
	if len(ev) < 2 || ev[len(ev)-2].Detail == "" {
		t.Errorf("events %+v: want the takeover recorded", ev)
	}
}

func TestOwnerWhoseProcessIsGoneIsTakenOverAtOnce(t *testing.T) {
	ctx := context.Background()
	gone := map[int]bool{4242: true}
	l, err := Open(ctx, filepath.Join(t.TempDir(), "l.db"), Options{Host: "h1", ProcessGone: func(pid int) bool { return gone[pid] }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dead := mustJoin(t, l, 4242)
	live := mustJoin(t, l, 4243)
	if _, err := l.Claim(ctx, ownedReq(dead, "D-1")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Claim(ctx, ownedReq(live, "L-1")); err != nil {
		t.Fatal(err)
	}
	b := mustJoin(t, l, 4244)
	if got, _ := l.Claim(ctx, ownedReq(b, "D-1")); got.Outcome != ClaimResume {
		t.Errorf("submission of a process that is gone: %v, want resume", got.Outcome)
	}
	if got, _ := l.Claim(ctx, ownedReq(b, "L-1")); got.Outcome != ClaimBusy {
		t.Errorf("submission of a live process: %v, want busy", got.Outcome)
	}
	// A lease held by a process of this host that is gone does not wait for its TTL either.
	if _, err := l.AcquireLease(ctx, "job", LeaseOwner{Host: "h1", PID: 4242}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AcquireLease(ctx, "job", LeaseOwner{Host: "h1", PID: 4244}, time.Hour); err != nil {
		t.Errorf("lease of a gone process: %v, want it taken over", err)
	}
	if _, err := l.AcquireLease(ctx, "job", LeaseOwner{Host: "h1", PID: 4243}, time.Hour); err == nil {
		t.Error("lease of a live process was taken over")
	}
}

func TestLeaveLetsOthersTakeOverAtOnce(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	a := mustJoin(t, l, 0)
	if _, err := l.Claim(ctx, ownedReq(a, "N-1")); err != nil {
		t.Fatal(err)
	}
	if err := a.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	b := mustJoin(t, l, 0)
	if got, _ := l.Claim(ctx, ownedReq(b, "N-1")); got.Outcome != ClaimResume {
		t.Errorf("after the holder left: %v, want resume", got.Outcome)
	}
}

func TestNotFoundWithinTheGraceStaysInDoubt(t *testing.T) {
	ctx := context.Background()
	l, clk := mustOpenClock(t)
	o := mustJoin(t, l, 0)
	id := mustSending(t, l, o, "N-1")
	const grace = 10 * time.Minute
	clk.Advance(time.Minute)
	nf, err := l.ResolveNotFound(ctx, id, o.ID, grace)
	if err != nil {
		t.Fatal(err)
	}
	if nf.Resend || !nf.Until.Equal(t0.Add(grace)) {
		t.Errorf("within the grace: %+v, want no resend until %v", nf, t0.Add(grace))
	}
	if s, _ := l.Submission(ctx, id); s.State != StateSending {
		t.Errorf("state %s, want sending", s.State)
	}
	clk.Advance(grace)
	if nf, err = l.ResolveNotFound(ctx, id, o.ID, grace); err != nil || !nf.Resend {
		t.Errorf("after the grace: %+v %v, want resend", nf, err)
	}
	if s, _ := l.Submission(ctx, id); s.State != StateClaimed {
		t.Errorf("state %s, want claimed", s.State)
	}
	// A further attempt moves the grace on.
	if _, err := l.MarkSending(ctx, id, o.ID); err != nil {
		t.Fatal(err)
	}
	if nf, _ = l.ResolveNotFound(ctx, id, o.ID, grace); nf.Resend {
		t.Error("resend allowed right after a new attempt")
	}
}

func TestAcceptedIsNeverReturnedToClaimed(t *testing.T) {
	ctx := context.Background()
	l, clk := mustOpenClock(t)
	o := mustJoin(t, l, 0)
	id := mustSending(t, l, o, "N-1")
	if err := l.MarkAccepted(ctx, id, "decode response: _case is a number"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Minute) // far past a one-minute grace, inside the owner's heartbeat
	nf, err := l.ResolveNotFound(ctx, id, o.ID, time.Minute)
	if err != nil || nf.Resend || !nf.Accepted {
		t.Errorf("accepted, 30 minutes later: %+v %v, want accepted, no resend", nf, err)
	}
	if err := l.MarkUnsent(ctx, id, o.ID, "x"); err == nil {
		t.Error("MarkUnsent of an accepted submission succeeded")
	}
	if _, err := l.RecordAttempt(ctx, id, o.ID); err == nil {
		t.Error("RecordAttempt of an accepted submission succeeded")
	}
	s, _ := l.Submission(ctx, id)
	if s.State != StateSending || s.Accepted.IsZero() {
		t.Errorf("state %s accepted %v, want sending and accepted", s.State, s.Accepted)
	}
	// The lookup that finally finds it records it.
	if err := l.MarkRegistered(ctx, id, Registered{RegistrationID: "r", Cases: []CaseRef{{CaseID: "c"}}, Recovered: true}); err != nil {
		t.Errorf("MarkRegistered: %v", err)
	}
}

func TestMarkRegisteredTwiceWithTheSameAnswer(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	c, _ := l.Claim(ctx, invoiceReq(0, 0, "N-1", "h", 100))
	id := c.Submission.ID
	if _, err := l.MarkSending(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	reg := Registered{RegistrationID: "r", Cases: []CaseRef{{CaseID: "c"}}}
	if err := l.MarkRegistered(ctx, id, reg); err != nil {
		t.Fatal(err)
	}
	if _, err := l.MarkPDF(ctx, id, 0, PDFUploaded, ""); err != nil {
		t.Fatal(err)
	}
	// The answer that another process received arrives after this one finished.
	if err := l.MarkRegistered(ctx, id, reg); err != nil {
		t.Errorf("the same answer again: %v, want nil", err)
	}
	if s, _ := l.Submission(ctx, id); s.State != StateUploaded {
		t.Errorf("state %s, want uploaded", s.State)
	}
}

// An owner of this very process whose end could not be written to the ledger (a full disk) is
// not alive for the process's next run, though its heartbeat has not lapsed.
func TestOwnerOfThisProcessThatEndedIsNotAlive(t *testing.T) {
	ctx := context.Background()
	l := MustOpen(t)
	a := mustJoin(t, l, os.Getpid())
	if _, err := l.Claim(ctx, ownedReq(a, "N-1")); err != nil {
		t.Fatal(err)
	}
	b := mustJoin(t, l, os.Getpid())
	if got, _ := l.Claim(ctx, ownedReq(b, "N-1")); got.Outcome != ClaimBusy {
		t.Fatalf("while a's run goes on: %v, want busy", got.Outcome)
	}
	live.drop(a.ID) // what Leave does before it writes, and keeps even when the write fails
	if got, _ := l.Claim(ctx, ownedReq(b, "N-1")); got.Outcome != ClaimResume {
		t.Errorf("after a's run ended unrecorded: %v, want resume", got.Outcome)
	}
}
