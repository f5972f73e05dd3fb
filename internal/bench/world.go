package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/amili-import/amili-import/amili/amilitest"
	"github.com/amili-import/amili-import/source/sftptest"
)

// World is what an import scenario talks to: the Amili sandbox and the SFTP server holding the
// workload. It runs in the bench's parent process, so that a child process running the
// importer measures the importer's memory and CPU, not the stand-ins for Amili and SFTP.
type World struct {
	sandbox *amilitest.Server
	sftp    *sftptest.Server
	Info    WorldInfo
}

// WorldInfo is how the importer's process reaches a World (passed to the child as JSON).
type WorldInfo struct {
	Dir                           string // the scenario's files; the inbox is Dir/sftp/inbox
	URL, Token, Account, Creditor string
	SFTPHost                      string
	SFTPPort                      int
	SFTPUser                      string
	SFTPKeyPEM                    []byte
	SFTPHostKey                   string
}

// Files of a scenario's inbox: the first import, a rerun's same bytes and its changed file.
const (
	fileFirst   = "first.csv"
	fileSame    = "same.csv"
	fileChanged = "changed.csv"
)

// StartWorld writes the scenario's workload under dir and starts the sandbox and the SFTP
// server. Close stops them.
func StartWorld(sc Scenario, dir string) (*World, error) {
	inbox := filepath.Join(dir, "sftp", "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		return nil, err
	}
	if sc.Mode != ModeDryRun {
		if err := WritePDFs(inbox, sc.Workload); err != nil {
			return nil, err
		}
	}
	first := sc.Workload
	first.ExtraItems = 0
	files := map[string]Workload{fileFirst: first}
	if sc.Mode == ModeRerun {
		files[fileSame], files[fileChanged] = first, sc.Workload
	}
	old := time.Now().Add(-time.Hour) // complete at once
	for name, w := range files {
		path := filepath.Join(inbox, name)
		if _, err := WriteCSV(path, w); err != nil {
			return nil, err
		}
		if err := os.Chtimes(path, old, old); err != nil {
			return nil, err
		}
	}
	if sc.Mode == ModeDryRun {
		return &World{Info: WorldInfo{Dir: dir}}, nil
	}
	w := &World{sandbox: amilitest.NewServer(amilitest.Options{
		Tokens: []string{benchToken}, RateLimit: sc.RateLimit, Burst: sc.Burst, Latency: sc.Latency,
	})}
	key, err := sftptest.NewClientKey("")
	if err != nil {
		w.Close()
		return nil, err
	}
	sopts := []sftptest.Option{sftptest.WithAuthorizedKey(key.Public), sftptest.WithUser("bench")}
	if sc.SFTPLatency > 0 {
		sopts = append(sopts, sftptest.WithLatency(sc.SFTPLatency))
	}
	if w.sftp, err = sftptest.Start(filepath.Join(dir, "sftp"), sopts...); err != nil {
		w.Close()
		return nil, fmt.Errorf("start SFTP server: %w", err)
	}
	w.Info = WorldInfo{
		Dir: dir, URL: w.sandbox.URL, Token: benchToken, Account: w.sandbox.Account, Creditor: w.sandbox.Creditor,
		SFTPHost: w.sftp.Host(), SFTPPort: w.sftp.Port(), SFTPUser: "bench", SFTPKeyPEM: key.PEM,
		SFTPHostKey: w.sftp.HostKeyLine(),
	}
	return w, nil
}

// Close stops the servers.
func (w *World) Close() {
	if w.sftp != nil {
		w.sftp.Close()
	}
	if w.sandbox != nil {
		w.sandbox.Close()
	}
}
