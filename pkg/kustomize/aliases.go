package kustomize

import (
	"bytes"
	"fmt"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// maxExpandedNodes caps how many YAML nodes one file may expand to once aliases are
// followed. Kustomize copies node trees alias by alias, so a small "billion laughs" file
// (anchors referencing anchors) would otherwise keep a build busy for hours. Real manifests,
// even large CRD bundles, stay far below this.
const maxExpandedNodes = 1 << 22

// checkAliasExpansion fails when a YAML file's aliases expand beyond maxExpandedNodes.
// Files without both an anchor ('&') and an alias ('*') character are skipped unparsed;
// unparsable files are left to the caller's parser to report.
func checkAliasExpansion(data []byte) error {
	if bytes.IndexByte(data, '&') < 0 || bytes.IndexByte(data, '*') < 0 {
		return nil
	}
	dec := kyaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc kyaml.Node
		if err := dec.Decode(&doc); err != nil {
			return nil
		}
		sizes := map[*kyaml.Node]int{}
		if n := expandedSize(&doc, sizes, 0); n > maxExpandedNodes {
			return fmt.Errorf("YAML aliases expand to more than %d nodes", maxExpandedNodes)
		}
	}
}

// expandedSize counts the nodes of n with aliases expanded, memoising anchored subtrees
// so the count itself stays linear in the file size. Results saturate just above the cap.
func expandedSize(n *kyaml.Node, sizes map[*kyaml.Node]int, depth int) int {
	if n == nil || depth > 10000 {
		return 1
	}
	if s, ok := sizes[n]; ok {
		return s
	}
	sizes[n] = maxExpandedNodes + 1 // a node reached again while being sized is a cycle
	total := 1
	if n.Kind == kyaml.AliasNode {
		total = expandedSize(n.Alias, sizes, depth+1)
	}
	for _, c := range n.Content {
		total += expandedSize(c, sizes, depth+1)
		if total > maxExpandedNodes {
			total = maxExpandedNodes + 1
			break
		}
	}
	sizes[n] = total
	return total
}
