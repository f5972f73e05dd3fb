package source_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/amili-import/amili-import/source"
	"github.com/amili-import/amili-import/source/sftptest"
	"github.com/amili-import/amili-import/source/sourcetest"
)

// inProcess starts an in-process server over a temp dir, with a client key authorized.
func inProcess(t *testing.T, extra ...sftptest.Option) (*sftptest.Server, sftptest.ClientKey, string) {
	t.Helper()
	root := t.TempDir()
	key, err := sftptest.NewClientKey("")
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]sftptest.Option{sftptest.WithAuthorizedKey(key.Public), sftptest.WithPassword("amili", "s3cret-pw")}, extra...)
	return sftptest.New(t, root, opts...), key, root
}

// pinned is a client config for srv authenticating with key and pinning the host key.
func pinned(srv *sftptest.Server, key sftptest.ClientKey) source.SFTPConfig {
	return source.SFTPConfig{
		Host: srv.Host(), Port: srv.Port(), User: srv.User(),
		PrivateKey: key.PEM, HostKey: srv.HostKeyLine(), Timeout: 5 * time.Second,
	}
}

func TestSFTPInProcess(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T, opts source.Options) (source.Source, string) {
		srv, key, root := inProcess(t)
		opts = sourcetest.Rebase(opts, "/")
		if err := mkdir(filepath.Join(root, opts.Dir)); err != nil {
			t.Fatal(err)
		}
		src, err := source.DialSFTP(context.Background(), pinned(srv, key), opts)
		if err != nil {
			t.Fatal(err)
		}
		return src, root
	})
}

func TestSFTPOpenSSH(t *testing.T) {
	sshd := sftptest.StartSSHD(t)
	n := 0
	sourcetest.Run(t, func(t *testing.T, opts source.Options) (source.Source, string) {
		n++
		root := filepath.Join(sshd.Dir, fmt.Sprintf("case%d", n))
		opts = sourcetest.Rebase(opts, filepath.ToSlash(root))
		if err := mkdir(opts.Dir); err != nil {
			t.Fatal(err)
		}
		cfg := source.SFTPConfig{
			Host: sshd.Host, Port: sshd.Port, User: sshd.User,
			PrivateKey: sshd.ClientKey.PEM, KnownHostsFile: sshd.KnownHostsFile, Timeout: 5 * time.Second,
		}
		src, err := source.DialSFTP(context.Background(), cfg, opts)
		if err != nil {
			t.Fatalf("%v\nsshd log:\n%s", err, sshd.Log())
		}
		return src, root
	})
}

func writeFile(t *testing.T, p, content string, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}
