package source

import (
	"net"
	"testing"
	"time"

	"github.com/amili-import/amili-import/source/sftptest"
	"golang.org/x/crypto/ssh"
)

func TestServerLimitsCapPacket(t *testing.T) {
	tests := []struct {
		name string
		lim  serverLimits
		n    int
		want int
	}{
		{"no limits", serverLimits{}, openSSHMaxRead, openSSHMaxRead},
		{"OpenSSH", serverLimits{maxPacket: 256 * 1024, maxRead: 261120, maxWrite: 261120}, openSSHMaxRead, openSSHMaxRead},
		{"small read", serverLimits{maxPacket: 256 * 1024, maxRead: 16 * 1024, maxWrite: 261120}, openSSHMaxRead, 16 * 1024},
		{"small write", serverLimits{maxRead: 261120, maxWrite: 8 * 1024}, DefaultStreamPacket, 8 * 1024},
		{"small packet", serverLimits{maxPacket: 34 * 1024}, openSSHMaxRead, 33 * 1024},
		{"under the limit", serverLimits{maxRead: 16 * 1024}, 4096, 4096},
	}
	for _, tt := range tests {
		if got := tt.lim.capPacket(tt.n); got != tt.want {
			t.Errorf("%s: capPacket(%d) = %d, want %d", tt.name, tt.n, got, tt.want)
		}
	}
}

// TestQueryLimits asks the in-process server, which answers what it is told to, and a real
// OpenSSH sshd, whose sftp-server reads at most 255 KiB.
func TestQueryLimits(t *testing.T) {
	key, err := sftptest.NewClientKey("")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key.PEM)
	if err != nil {
		t.Fatal(err)
	}
	connect := func(t *testing.T, addr, user string, signer ssh.Signer) *ssh.Client {
		t.Helper()
		c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: func(string, net.Addr, ssh.PublicKey) error { return nil }, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	t.Run("InProcess", func(t *testing.T) {
		want := sftptest.Limits{MaxPacket: 20000, MaxRead: 16384, MaxWrite: 12345, MaxHandles: 7}
		srv := sftptest.New(t, t.TempDir(), sftptest.WithAuthorizedKey(key.Public), sftptest.WithLimits(want))
		lim, ok, err := queryLimits(connect(t, srv.Addr(), srv.User(), signer), 5*time.Second)
		if err != nil || !ok {
			t.Fatalf("queryLimits: ok %v, err %v", ok, err)
		}
		if got := (sftptest.Limits{MaxPacket: lim.maxPacket, MaxRead: lim.maxRead, MaxWrite: lim.maxWrite, MaxHandles: lim.maxHandles}); got != want {
			t.Errorf("limits: got %+v, want %+v", got, want)
		}
	})
	t.Run("NoExtension", func(t *testing.T) {
		srv := sftptest.New(t, t.TempDir(), sftptest.WithAuthorizedKey(key.Public))
		if _, ok, err := queryLimits(connect(t, srv.Addr(), srv.User(), signer), 5*time.Second); ok || err != nil {
			t.Errorf("server without limits@openssh.com: ok %v, err %v; want not ok, no error", ok, err)
		}
	})
	t.Run("OpenSSH", func(t *testing.T) {
		d := sftptest.StartSSHD(t)
		s, err := ssh.ParsePrivateKey(d.ClientKey.PEM)
		if err != nil {
			t.Fatal(err)
		}
		lim, ok, err := queryLimits(connect(t, d.Addr(), d.User, s), 5*time.Second)
		if err != nil || !ok {
			t.Fatalf("queryLimits: ok %v, err %v\nsshd log:\n%s", ok, err, d.Log())
		}
		if lim.maxRead == 0 || lim.maxPacket == 0 {
			t.Errorf("limits %+v; want OpenSSH's packet and read limits", lim)
		}
		if got := lim.capPacket(openSSHMaxRead); got != openSSHMaxRead {
			t.Errorf("OpenSSH's limits %+v cap 255 KiB reads to %d", lim, got)
		}
	})
}
