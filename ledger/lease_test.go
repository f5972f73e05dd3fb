package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/internal/fakeclock"
)

func TestLeases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	clk := fakeclock.New(t0)
	open2 := func() *Ledger {
		l, err := Open(ctx, path, Options{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	a, b := open2(), open2()
	ownerA, ownerB := LeaseOwner{Host: "h1", PID: 10}, LeaseOwner{Host: "h2", PID: 20}

	la, err := a.AcquireLease(ctx, "job:main", ownerA, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Held", func(t *testing.T) {
		_, err := b.AcquireLease(ctx, "job:main", ownerB, time.Minute)
		var held *LeaseHeldError
		if !errors.As(err, &held) {
			t.Fatalf("err = %v, want *LeaseHeldError", err)
		}
		if held.Holder != ownerA || !held.Since.Equal(t0) || !held.Expires.Equal(t0.Add(time.Minute)) || held.Name != "job:main" {
			t.Errorf("held = %+v", held)
		}
		if _, err := b.AcquireLease(ctx, "job:other", ownerB, time.Minute); err != nil {
			t.Errorf("another name: %v", err)
		}
	})
	t.Run("Renew", func(t *testing.T) {
		clk.Advance(50 * time.Second)
		if err := la.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(50 * time.Second) // past the first expiry, within the renewed one
		var held *LeaseHeldError
		if _, err := b.AcquireLease(ctx, "job:main", ownerB, time.Minute); !errors.As(err, &held) {
			t.Errorf("renewed lease taken: %v", err)
		}
	})
	t.Run("ExpiredTakeover", func(t *testing.T) {
		clk.Advance(2 * time.Minute)
		lb, err := b.AcquireLease(ctx, "job:main", ownerB, time.Minute)
		if err != nil {
			t.Fatalf("expired lease not taken over: %v", err)
		}
		if err := la.Renew(ctx); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("old holder renews: %v, want ErrLeaseLost", err)
		}
		if err := la.Release(ctx); err != nil {
			t.Fatal(err)
		}
		var held *LeaseHeldError
		if _, err := a.AcquireLease(ctx, "job:main", ownerA, time.Minute); !errors.As(err, &held) || held.Holder != ownerB {
			t.Errorf("old holder's release freed the new holder's lease: %v", err)
		}
		if err := lb.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := a.AcquireLease(ctx, "job:main", ownerA, time.Minute); err != nil {
			t.Errorf("after release: %v", err)
		}
	})
}

// TestLeaseAcrossProcesses holds a lease here and asks for it from a child process.
func TestLeaseAcrossProcesses(t *testing.T) {
	if os.Getenv("LEDGER_LEASE_CHILD") != "" {
		return
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "l.db")
	l, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	lease, err := l.AcquireLease(ctx, "job:main", LeaseOwner{Host: "here", PID: os.Getpid()}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	child := func() (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLeaseChild$")
		cmd.Env = append(os.Environ(), "LEDGER_LEASE_CHILD="+path)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := child()
	if err == nil {
		t.Fatalf("child acquired a held lease: %s", out)
	}
	if !strings.Contains(out, "already running on here pid") {
		t.Errorf("child output %q does not name the holder", out)
	}
	lease.Release(ctx)
	if out, err := child(); err != nil {
		t.Errorf("child after release: %v\n%s", err, out)
	}
}

// TestLeaseChild is the child of TestLeaseAcrossProcesses; alone it does nothing.
func TestLeaseChild(t *testing.T) {
	path := os.Getenv("LEDGER_LEASE_CHILD")
	if path == "" {
		return
	}
	l, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.AcquireLease(context.Background(), "job:main", LeaseOwner{Host: "child", PID: os.Getpid()}, time.Hour); err != nil {
		fmt.Println(err)
		t.Fatal(err)
	}
}
