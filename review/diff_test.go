package review

import "testing"

func TestUnifiedDiff(t *testing.T) {
	a := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n"
	for _, c := range []struct {
		name, b, want string
	}{
		{"equal", a, ""},
		{"one line changed", "1\n2\n3\n4\n5\nsix\n7\n8\n9\n10\n11\n12\n13\n14\n15\n",
			"--- f\n+++ f (recommended)\n@@ -3,7 +3,7 @@\n 3\n 4\n 5\n-6\n+six\n 7\n 8\n 9\n"},
		{"two changes far apart make two hunks", "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\nfifteen\n",
			"--- f\n+++ f (recommended)\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -12,4 +12,4 @@\n 12\n 13\n 14\n-15\n+fifteen\n"},
		{"close changes share a hunk; lines removed and added", "1\n2\n3\n5\n6\nnew\n7\n8\n9\n10\n11\n12\n13\n14\n15\n",
			"--- f\n+++ f (recommended)\n@@ -1,9 +1,9 @@\n 1\n 2\n 3\n-4\n 5\n 6\n+new\n 7\n 8\n 9\n"},
		{"no final newline", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15",
			"--- f\n+++ f (recommended)\n@@ -12,4 +12,4 @@\n 12\n 13\n 14\n-15\n+15\n\\ No newline at end of file\n"},
		{"everything removed", "", "--- f\n+++ f (recommended)\n@@ -1,15 +0,0 @@\n-1\n-2\n-3\n-4\n-5\n-6\n-7\n-8\n-9\n-10\n-11\n-12\n-13\n-14\n-15\n"},
	} {
		if got := unifiedDiff("f", a, c.b); got != c.want {
			t.Errorf("%s:\n%s\nwant:\n%s", c.name, got, c.want)
		}
	}
}
