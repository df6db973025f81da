package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"helm.sh/helm/v3/pkg/chart/loader"

	"gotk.dev/internal/testing/gitserver"
	"gotk.dev/internal/testing/helmrepo"
	"gotk.dev/internal/testing/registry"
)

// Placeholders of the example repository (e2e/journeys/testdata/platform), replaced with
// this process's addresses before the first commit.
const (
	markGitURL    = "__GIT_URL__"
	markHelmURL   = "__HELM_REPOSITORY_URL__"
	markAlertsURL = "__ALERTS_URL__"
	markAlertsKey = "__ALERTS_HMAC_KEY__"
	markRegistry  = "__IMAGE_REGISTRY__"
)

// podinfoTags are the image tags the demo registry starts with: the repository names the
// older one, so the image automation has an update to write on the first scan.
var podinfoTags = []string{"6.14.0", "6.14.1"}

// servedURLs is what the gitserver mode writes to --url-file once it listens.
type servedURLs struct {
	Git    string `json:"git"`
	Helm   string `json:"helm"`
	Alerts string `json:"alerts"`
	// Registry is the host of the image registry.
	Registry string `json:"registry"`
}

// runGitServer serves, until it is stopped, the demo's peers: bare repositories under --root
// over smart HTTP (git http-backend), a Helm repository holding the chart of --chart, an
// in-memory image registry holding podinfo's tags, and the central alerting endpoint
// (HMAC-verified events appended to --alerts-log). On first start
// it creates the repository --repo from the files of --seed with the placeholders replaced;
// it writes the URLs to --url-file (JSON) once it listens.
func runGitServer(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("gitserver", flag.ExitOnError)
	root := fset.String("root", "", "directory of the bare repositories")
	user := fset.String("username", "", "basic auth user")
	pass := fset.String("password", "", "basic auth password")
	repo := fset.String("repo", "fleet", "repository to create on first start")
	seed := fset.String("seed", "", "directory whose files the new repository starts with")
	skip := fset.String("skip", "", "comma-separated seed paths to leave out")
	chart := fset.String("chart", "", "chart directory the Helm repository serves")
	alertsKey := fset.String("alerts-key", "", "secret the alerts endpoint derives the platform's and each tenant's HMAC key from (generic-hmac Providers)")
	alertsLog := fset.String("alerts-log", "", "file the alerts endpoint appends events to")
	urlFile := fset.String("url-file", "", "file receiving the server URLs")
	_ = fset.Parse(args)

	srv, err := gitserver.Start(gitserver.Options{Root: *root, Username: *user, Password: *pass})
	if err != nil {
		return err
	}
	defer srv.Close()
	charts, err := helmrepo.Start(helmrepo.Options{})
	if err != nil {
		return err
	}
	defer charts.Close()
	if err := addChart(charts, *chart); err != nil {
		return err
	}
	alerts, err := startAlerts(*alertsKey, *alertsLog)
	if err != nil {
		return err
	}
	defer alerts.Close()
	images, err := registry.StartInProcess()
	if err != nil {
		return err
	}
	defer images.Close()
	if err := pushImages(images.Host()+"/podinfo", podinfoTags); err != nil {
		return err
	}
	urls := servedURLs{Git: srv.URL(), Helm: charts.URL, Alerts: alerts.URL, Registry: images.Host()}

	if _, err := os.Stat(filepath.Join(*root, *repo+".git")); os.IsNotExist(err) {
		if _, err := srv.InitRepo(*repo); err != nil {
			return err
		}
		files, err := readTree(*seed, strings.Split(*skip, ","))
		if err != nil {
			return err
		}
		marks := strings.NewReplacer(append(alertsKeyMarks(alerts), markGitURL, urls.Git+"/"+*repo+".git", markHelmURL, urls.Helm,
			markAlertsURL, urls.Alerts, markRegistry, urls.Registry)...)
		for path, body := range files {
			files[path] = marks.Replace(body)
		}
		if _, err := srv.Commit(*repo).Files(files).Message("Add the example fleet repository").Do(); err != nil {
			return fmt.Errorf("seed %s: %w", *repo, err)
		}
	}
	b, err := json.Marshal(urls)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*urlFile, b, 0o644); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}

// addChart packages the chart directory dir with helm's chartutil and serves it.
func addChart(charts *helmrepo.Server, dir string) error {
	if dir == "" {
		dir = helmrepo.PodinfoDir()
	}
	c, err := loader.LoadDir(dir)
	if err != nil {
		return fmt.Errorf("chart %s: %w", dir, err)
	}
	data, err := helmrepo.PackageChart(dir, "", c.Metadata.Version)
	if err != nil {
		return err
	}
	_, err = charts.Add(data)
	return err
}

// pushImages pushes a small random image as image:tag for every tag (the pods are
// simulated: only the tags matter).
func pushImages(image string, tags []string) error {
	img, err := random.Image(64, 1)
	if err != nil {
		return err
	}
	for _, tag := range tags {
		ref, err := name.NewTag(image + ":" + tag)
		if err != nil {
			return err
		}
		if err := remote.Write(ref, img); err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
	}
	return nil
}

// readTree reads every regular file under dir, keyed by slash-separated relative path,
// leaving out the paths (and everything below them) in skip.
func readTree(dir string, skip []string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		for _, s := range skip {
			if s != "" && (rel == s || strings.HasPrefix(rel, s+"/")) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[rel] = string(b)
		return nil
	})
	return files, err
}
