package source_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/source"
	"github.com/amili-import/amili-import/source/sftptest"
)

// BenchmarkFetch downloads 200 PDFs of 1 MB and one 50 MB CSV from a real sshd on loopback,
// with this package and with OpenSSH's own sftp client in the same run, and reports both
// rates and their ratio (openssh-MB/s excludes sftp's connection setup, measured apart).
// OpenSSH runs twice: with its defaults (ratio) and with the same 255 KiB reads as ours
// (-B 261120, ratio-big).
// AMILI_BENCH_PACKET and AMILI_BENCH_REQUESTS override the client's MaxPacket and
// MaxConcurrentRequests, AMILI_BENCH_STREAM_REQUESTS its StreamConcurrentRequests (PDFs).
func BenchmarkFetch(b *testing.B) {
	sftpBin, err := exec.LookPath("sftp")
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("OpenSSH sftp client missing: %v", err)
		}
		b.Skip("OpenSSH sftp client not installed")
	}
	sshd := sftptest.StartSSHD(b)
	remote := filepath.Join(sshd.Dir, "bench")
	var pdfs []string
	for i := 0; i < 200; i++ {
		name := fmt.Sprintf("inv%03d.pdf", i)
		pdfs = append(pdfs, name)
		writeRandom(b, filepath.Join(remote, "pdf", name), 1<<20)
	}
	writeRandom(b, filepath.Join(remote, "big.csv"), 50<<20)

	cfg := source.SFTPConfig{Host: sshd.Host, Port: sshd.Port, User: sshd.User,
		PrivateKey: sshd.ClientKey.PEM, KnownHostsFile: sshd.KnownHostsFile}
	cfg.MaxPacket, _ = strconv.Atoi(os.Getenv("AMILI_BENCH_PACKET"))
	cfg.MaxConcurrentRequests, _ = strconv.Atoi(os.Getenv("AMILI_BENCH_REQUESTS"))
	cfg.StreamConcurrentRequests, _ = strconv.Atoi(os.Getenv("AMILI_BENCH_STREAM_REQUESTS"))
	src, err := source.DialSFTP(context.Background(), cfg, source.Options{Dir: filepath.ToSlash(remote), PDFDir: "pdf"})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	connectOnly := openSSHConnectTime(b, sftpBin, sshd)

	sets := []struct {
		name  string
		files []string // relative to remote
		size  int64
		open  func(string) (io.ReadCloser, error)
	}{
		{"PDF200x1MB", pdfs, 200 << 20, func(n string) (io.ReadCloser, error) { return src.OpenPDF(context.Background(), n) }},
		{"CSV50MB", []string{"big.csv"}, 50 << 20, func(n string) (io.ReadCloser, error) { return src.Open(context.Background(), n) }},
	}
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			out := b.TempDir()
			batch := filepath.Join(b.TempDir(), "batch")
			var lines []string
			lines = append(lines, "lcd "+out)
			for _, f := range set.files {
				dir := remote
				if strings.HasSuffix(f, ".pdf") {
					dir = path.Join(remote, "pdf")
				}
				lines = append(lines, "get "+path.Join(dir, f))
			}
			if err := os.WriteFile(batch, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				b.Fatal(err)
			}
			var ours, theirs, theirsBig time.Duration
			b.SetBytes(set.size)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				for _, f := range set.files {
					fetch(b, set.open, f, filepath.Join(out, f))
				}
				ours += time.Since(start)

				start = time.Now()
				runSFTP(b, sftpBin, sshd, batch)
				theirs += time.Since(start) - connectOnly

				start = time.Now()
				runSFTP(b, sftpBin, sshd, batch, "-B", "261120")
				theirsBig += time.Since(start) - connectOnly
			}
			b.StopTimer()
			mb := float64(set.size) * float64(b.N) / 1e6
			b.ReportMetric(mb/ours.Seconds(), "amili-MB/s")
			b.ReportMetric(mb/theirs.Seconds(), "openssh-MB/s")
			b.ReportMetric(theirs.Seconds()/ours.Seconds(), "ratio")
			b.ReportMetric(mb/theirsBig.Seconds(), "openssh-B255K-MB/s")
			b.ReportMetric(theirsBig.Seconds()/ours.Seconds(), "ratio-big")
		})
	}
}

func fetch(b *testing.B, open func(string) (io.ReadCloser, error), name, to string) {
	rc, err := open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	f, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, rc); err != nil {
		b.Fatal(err)
	}
}

func sftpArgs(sshd *sftptest.SSHD, batch string, extra ...string) []string {
	return append(extra, "-q", "-b", batch, "-i", sshd.ClientKeyFile, "-P", strconv.Itoa(sshd.Port),
		"-o", "UserKnownHostsFile="+sshd.KnownHostsFile, "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-F", "/dev/null",
		sshd.User+"@"+sshd.Host)
}

func runSFTP(b *testing.B, bin string, sshd *sftptest.SSHD, batch string, extra ...string) {
	out, err := exec.Command(bin, sftpArgs(sshd, batch, extra...)...).CombinedOutput()
	if err != nil {
		b.Fatalf("sftp -b: %v\n%s\nsshd: %s", err, out, sshd.Log())
	}
}

// openSSHConnectTime is the best of three runs of sftp with a batch that transfers nothing.
func openSSHConnectTime(b *testing.B, bin string, sshd *sftptest.SSHD) time.Duration {
	batch := filepath.Join(b.TempDir(), "noop")
	if err := os.WriteFile(batch, []byte("pwd\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	best := time.Hour
	for i := 0; i < 3; i++ {
		start := time.Now()
		runSFTP(b, bin, sshd, batch)
		best = min(best, time.Since(start))
	}
	return best
}

func writeRandom(b *testing.B, p string, n int) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, n)
	_, _ = rand.Read(data)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
}
