package dlp

import "testing"

// TestLegacyVendorForms checks the un-prefixed legacy tokens that count only
// as the value of a field named after their vendor, and the format limits
// taken from the vendors' documented token shapes.
func TestLegacyVendorForms(t *testing.T) {
	e := testEngine(t)
	cases := []struct {
		name, text, typ string
		want            bool
	}{
		{"heroku uuid", `HEROKU_API_KEY=832d2129-a846-4e27-99f4-7004b6ad53ef`, "heroku-api-key", true},
		{"heroku uuid xml", "<herokuToken>\n    832d2129-a846-4e27-99f4-7004b6ad53ef\n</herokuToken>", "heroku-api-key", true},
		{"heroku app id", `HEROKU_APP_ID=832d2129-a846-4e27-99f4-7004b6ad53ef`, "heroku-api-key", false},
		{"uuid without heroku", `api_key=832d2129-a846-4e27-99f4-7004b6ad53ef`, "heroku-api-key", false},
		{"heroku far from uuid", `heroku is nice; id=832d2129-a846-4e27-99f4-7004b6ad53ef`, "heroku-api-key", false},
		{"heroku v2", `key: HRKU-AAy9Ppr_HD2pPuTyIiTYInO0hbzhoERRSO93ZQusSYHgaD7_WQ07FnF7L9FX`, "heroku-api-key", true},
		{"jira legacy", `JIRA_API_TOKEN=HXe8DGg1iJd2AopzyxkFB7F2`, "atlassian-api-token", true},
		{"jira issue key", `jira_issue_key: "PLAT-1234"`, "atlassian-api-token", false},
		{"jira url", `jira: https://example.atlassian.net/browse/ABC-123`, "atlassian-api-token", false},
		{"sourcegraph legacy", `sourcegraph: 6d2FabeB6ADd229Bc199FabA28fD3efb57dF0bD3`, "sourcegraph-access-token", true},
		{"sourcegraph commit", `github.com/sourcegraph/sourcegraph/commit/6d2fabeb6add229bc199faba28fd3efb57df0bd3`, "sourcegraph-access-token", false},
		{"slack user placeholder", `"token": "xoxp-572370529330-573807301142-572331691188-####################"`, "slack-token", false},
		{"slack short", `xoxb-12345-abcd234`, "slack-token", false},
		{"slack legacy bot", `xoxb-47834520726-N3otsrwj8Cf99cs8GhiRZsX1`, "slack-token", true},
		{"slack xoxo in a file name", `https://indieweb.org/images/3/35/2018-250-xoxo-indieweb-1.jpg`, "slack-token", false},
		{"gitlab rrt low entropy", `GR134894112312312312312312312`, "gitlab-runner-registration-token", false},
		{"gcp sequential sample", `AIzaSyabcdefghijklmnopqrstuvwxyz1234567`, "gcp-api-key", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := false
			for _, f := range e.Scan([]byte(c.text), nil) {
				if f.Type == c.typ {
					got = true
				}
			}
			if got != c.want {
				t.Fatalf("%s in %q: got %v, want %v", c.typ, c.text, got, c.want)
			}
		})
	}
}
