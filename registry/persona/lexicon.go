package persona

// The lexicon: small, general word lists. It maps verbs to actions and
// actions to operation kinds; it is not tuned to individual sentences.

// action is what a verb asks for. Tools get actions from the verbs in their
// names (add_comment → create and comment; export_report → export).
type action string

const (
	actRead    action = "read"    // plain look-ups: search, list, get, fetch
	actUpdate  action = "update"  // change existing records
	actManage  action = "manage"  // handle/manage: read, create, update, comment
	actCreate  action = "create"  // add new records
	actComment action = "comment" // comment, reply, note
	actSend    action = "send"    // send data out: email, notify, post
	actDelete  action = "delete"
	actExport  action = "export" // bulk export, reports
	actRefund  action = "refund"
	actMerge   action = "merge"
	actAdmin   action = "admin"
	actAll     action = "all" // full access
	actAny     action = "any" // touch/do/access under negation: every operation
)

// verbs maps a stemmed verb to its action when used positively and when
// negated ("never touches X" denies everything on X, "touches X" reads X).
var verbs = map[string]struct{ pos, neg action }{}

func addVerbs(pos, neg action, words ...string) {
	for _, w := range words {
		verbs[stem(w)] = struct{ pos, neg action }{pos, neg}
	}
}

func init() {
	addVerbs(actRead, actRead, "read", "get", "view", "see", "search", "find", "list", "lookup", "fetch", "browse",
		"check", "review", "monitor", "inspect", "query", "retrieve", "show", "look", "watch", "research",
		"summarise", "summarize", "investigate", "audit", "track", "analyse", "analyze", "reconcile", "readonly", "study")
	addVerbs(actRead, actAny, "access", "touch", "use")
	addVerbs(actUpdate, actUpdate, "update", "edit", "modify", "change", "correct", "fix", "amend", "alter", "rename", "tidy", "clean")
	addVerbs(actManage, actAny, "manage", "handle", "maintain", "triage", "process", "work", "resolve", "own", "do", "run")
	addVerbs(actCreate, actCreate, "create", "add", "open", "file", "submit", "raise", "draft", "write", "compose", "register", "insert")
	addVerbs(actComment, actComment, "comment", "annotate", "reply", "respond", "answer")
	addVerbs(actSend, actSend, "send", "email", "mail", "notify", "post", "message", "forward", "publish", "share", "broadcast", "alert", "upload")
	addVerbs(actDelete, actDelete, "delete", "remove", "purge", "erase", "destroy", "drop", "wipe")
	addVerbs(actExport, actExport, "export", "download", "dump", "extract", "produce", "generate", "report", "compile")
	addVerbs(actRefund, actRefund, "refund", "reimburse")
	addVerbs(actMerge, actMerge, "merge")
	addVerbs(actAdmin, actAdmin, "administer", "administrate", "configure", "provision")
	addVerbs(actAll, actAny, "fullaccess")
}

// genericAccess verbs say nothing about an object when used as nouns
// ("billing access").
var genericAccess = map[string]bool{stem("access"): true, stem("use"): true, stem("touch"): true, stem("fullaccess"): false}

// grants says which tool actions a positive action grants. Actions that act
// on existing records also grant reading them (impliesRead).
var grants = map[action][]action{
	actRead:    {actRead},
	actUpdate:  {actUpdate},
	actManage:  {actRead, actCreate, actUpdate, actComment},
	actCreate:  {actCreate},
	actComment: {actComment},
	actSend:    {actSend},
	actDelete:  {actDelete},
	actExport:  {actExport},
	actRefund:  {actRefund},
	actMerge:   {actMerge},
	actAdmin:   {actAdmin, actDelete},
}

var impliesRead = map[action]bool{
	actUpdate: true, actManage: true, actCreate: true, actComment: true,
	actDelete: true, actRefund: true, actMerge: true,
}

// synonyms maps stemmed variants to one canonical stemmed token; applied to
// the description and to the catalog alike.
var synonyms = map[string]string{}

func addSynonyms(canonical string, words ...string) {
	c := stem(canonical)
	for _, w := range words {
		synonyms[stem(w)] = c
	}
}

func init() {
	addSynonyms("email", "mail", "inbox", "mailbox")
	addSynonyms("comment", "reply", "response", "note", "remark")
	addSynonyms("repository", "repo", "codebase")
	addSynonyms("payment", "transaction", "charge")
	addSynonyms("customer", "client")
	addSynonyms("issue", "bug")
	addSynonyms("message", "notification", "alert")
	addSynonyms("web", "internet", "website", "online")
	addSynonyms("statistic", "stat", "metric", "analytics")
	addSynonyms("contact", "people", "person")
}

// negators open a negative scope that runs to the end of the clause.
var negators = map[string]bool{
	"never": true, "not": true, "no": true, "without": true, "cannot": true, "nor": true,
	"neither": true, "forbidden": true, "prohibited": true, "none": true, "nothing": true,
	"nobody": true, "mustnt": true,
}

// exceptions turn the rest of the clause into an exception to what came
// before it: negative after a positive, positive after a negative.
var exceptions = map[string]bool{"except": true, "excluding": true, "excepting": true, "besides": true}

// universal objects stand for every tool.
var universal = map[string]bool{"everything": true, "anything": true, "all": true, "any": true, "anywhere": true, "nothing": true, "everywhere": true}

// pronouns refer to the previous phrase's objects.
var pronouns = map[string]bool{"them": true, "it": true, "those": true, "these": true, "they": true, "ones": true, "one": true}

// prepositions separate object groups ("comments on tickets for customers").
var prepositions = map[string]bool{
	"on": true, "to": true, "for": true, "in": true, "from": true, "of": true, "about": true, "against": true,
	"with": true, "via": true, "through": true, "by": true, "into": true, "at": true, "after": true, "before": true,
	"within": true, "across": true, "over": true, "under": true, "per": true, "using": true,
}

// conjunctions join verbs or objects.
var conjunctions = map[string]bool{"and": true, "or": true, "&": true}

// clauseBreaks end a clause (and a negative scope).
var clauseBreaks = map[string]bool{"but": true, "while": true, "whereas": true, "although": true, "however": true, "though": true, "yet": true}

var stopwords = map[string]bool{}

func init() {
	for _, w := range []string{"a", "an", "the", "their", "its", "his", "her", "our", "your", "my", "this", "that",
		"who", "which", "what", "is", "are", "be", "been", "being", "can", "may", "might", "must", "should", "shall",
		"will", "would", "could", "does", "did", "has", "have", "had", "also", "then", "so", "as", "such", "up", "out",
		"only", "just", "own", "own", "end", "data", "information", "info", "detail", "details", "thing", "things",
		"stuff", "some", "each", "every", "other", "new", "old", "existing", "relevant", "various", "when", "where",
		"if", "than", "too", "very", "more", "less", "same", "way", "team", "teams", "agent", "bot", "assistant",
		"role", "user", "users", "person's", "allowed", "able", "permitted", "ever", "i", "we", "you", "he", "she",
		"there", "here", "how", "why", "etc", "e", "g", "ie", "eg", "via", "s", "needed", "need", "needs", "want",
		"wants", "please", "let", "lets", "make", "makes", "keep", "keeps", "help", "helps", "try", "tries"} {
		stopwords[w] = true
	}
	// Words that read as verbs or function words but mean nothing here.
	delete(stopwords, "via") // a preposition
}
