package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSandboxVerb(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--api-key", "T"}, outW, &stderr)
		outW.Close()
	}()

	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var baseURL, creditor, inactive string
	var printed []string
	timeout := time.After(10 * time.Second)
	for baseURL == "" || creditor == "" || inactive == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("sandbox ended early; stdout %q stderr %q", printed, stderr.String())
			}
			printed = append(printed, l)
			f := strings.Fields(l)
			switch {
			case strings.HasPrefix(l, "Amili sandbox listening on "):
				baseURL = f[len(f)-1]
			case strings.Contains(l, "creditor (active)"):
				creditor = f[len(f)-1]
			case strings.Contains(l, "creditor (inactive)"):
				inactive = f[len(f)-1]
			}
		case <-timeout:
			t.Fatalf("no URL printed; stdout %q", printed)
		}
	}
	if strings.HasSuffix(baseURL, ":0") || !strings.HasPrefix(baseURL, "http://127.0.0.1:") {
		t.Fatalf("printed URL %q, want the real port", baseURL)
	}
	if len(creditor) != 24 || len(inactive) != 24 || creditor == inactive {
		t.Errorf("creditors printed: %q and %q", creditor, inactive)
	}

	body, err := os.ReadFile(filepath.Join("..", "..", "amili", "amilitest", "testdata", "invoice.json"))
	if err != nil {
		t.Fatal(err)
	}
	post := func(token, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", baseURL+"/invoice--registrations", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("X-API-Key", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	code, m := post("T", string(body))
	if code != http.StatusCreated {
		t.Fatalf("registration: %d %v", code, m)
	}
	if id, _ := m["_case"].(string); len(id) != 24 {
		t.Errorf("_case = %v", m["_case"])
	}
	if code, _ := post("", string(body)); code != http.StatusUnauthorized {
		t.Errorf("without X-API-Key: %d, want 401", code)
	}
	if code, _ := post("wrong", string(body)); code != http.StatusUnauthorized {
		t.Errorf("wrong X-API-Key: %d, want 401", code)
	}

	cancel()
	go io.Copy(io.Discard, outR)
	select {
	case rc := <-done:
		if rc != 0 {
			t.Errorf("exit %d, want 0; stderr %s", rc, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sandbox did not stop after the context was cancelled")
	}
	if _, err := http.Get(baseURL + "/cases"); err == nil {
		t.Error("the sandbox still answers after it stopped")
	}
}

func TestSandboxVerbFlags(t *testing.T) {
	for name, args := range map[string][]string{
		"BadFraction":   {"sandbox", "--commit-then-drop", "1.5"},
		"UnknownFlag":   {"sandbox", "--nope"},
		"ExtraArgument": {"sandbox", "extra"},
		"BadAddr":       {"sandbox", "--addr", "256.0.0.1:99999"},
		"MissingJWTKey": {"sandbox", "--addr", "127.0.0.1:0", "--jwt-key", "code=/nonexistent.pem"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut strings.Builder
			if rc := run(context.Background(), args, &out, &errOut); rc != exitNoStart {
				t.Errorf("exit %d, want %d; stderr %s", rc, exitNoStart, errOut.String())
			}
		})
	}
}

// Without --api-key a key is generated, printed and required.
func TestSandboxVerbGeneratedKey(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0"}, outW, io.Discard)
		outW.Close()
	}()
	sc := bufio.NewScanner(outR)
	var baseURL, key string
	for (baseURL == "" || key == "") && sc.Scan() {
		f := strings.Fields(sc.Text())
		if strings.HasPrefix(sc.Text(), "Amili sandbox listening on ") {
			baseURL = f[len(f)-1]
		}
		if strings.Contains(sc.Text(), "api key (generated)") {
			key = f[len(f)-1]
		}
	}
	go io.Copy(io.Discard, outR)
	if len(key) != 32 || baseURL == "" {
		cancel()
		t.Fatalf("generated key %q, URL %q", key, baseURL)
	}
	req, _ := http.NewRequest("GET", baseURL+"/cases", nil)
	req.Header.Set("X-API-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("GET /cases with the generated key: %v", err)
	} else {
		if resp.StatusCode != 200 {
			t.Errorf("GET /cases with the generated key: %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
	cancel()
	if rc := <-done; rc != 0 {
		t.Errorf("exit %d", rc)
	}
}
