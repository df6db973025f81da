package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gotk.dev/internal/testing/gitserver"
)

// runGitServer serves bare repositories under --root over smart HTTP (git http-backend)
// until it is stopped. On first start it creates the repository --repo from the files of
// --seed; it writes the server URL to --url-file once it listens.
func runGitServer(ctx context.Context, args []string) error {
	fset := flag.NewFlagSet("gitserver", flag.ExitOnError)
	root := fset.String("root", "", "directory of the bare repositories")
	user := fset.String("username", "", "basic auth user")
	pass := fset.String("password", "", "basic auth password")
	repo := fset.String("repo", "fleet", "repository to create on first start")
	seed := fset.String("seed", "", "directory whose files the new repository starts with")
	skip := fset.String("skip", "", "comma-separated seed paths to leave out")
	urlFile := fset.String("url-file", "", "file receiving the server URL")
	_ = fset.Parse(args)

	srv, err := gitserver.Start(gitserver.Options{Root: *root, Username: *user, Password: *pass})
	if err != nil {
		return err
	}
	defer srv.Close()
	if _, err := os.Stat(filepath.Join(*root, *repo+".git")); os.IsNotExist(err) {
		if _, err := srv.InitRepo(*repo); err != nil {
			return err
		}
		files, err := readTree(*seed, strings.Split(*skip, ","))
		if err != nil {
			return err
		}
		if _, err := srv.Commit(*repo).Files(files).Message("Add the example fleet repository").Do(); err != nil {
			return fmt.Errorf("seed %s: %w", *repo, err)
		}
	}
	if err := os.WriteFile(*urlFile, []byte(srv.URL()), 0o644); err != nil {
		return err
	}
	<-ctx.Done()
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
