package translate

import (
	"strings"

	"github.com/tidwall/gjson"
)

// urlCitation is an Anthropic web search citation (web_search_result_location) in the terms of
// an OpenAI url_citation annotation: the page's URL and title. Its span is the text block's.
type urlCitation struct {
	url, title string
}

// webCitation reads an Anthropic citation; ok is false for any other type than
// web_search_result_location (a document's char_location, page_location, …, which name no
// URL) and for one without a URL.
func webCitation(c gjson.Result) (urlCitation, bool) {
	if c.Get("type").String() != "web_search_result_location" {
		return urlCitation{}, false
	}
	u := c.Get("url").String()
	if u == "" {
		return urlCitation{}, false
	}
	return urlCitation{url: strings.Clone(u), title: strings.Clone(c.Get("title").String())}, true
}

// addCitation appends c to a text block's citations unless the block already cites the same
// page: OpenAI's form keeps one annotation per page and span (Anthropic cites a page once for
// each passage it quotes).
func addCitation(cs []urlCitation, c urlCitation) []urlCitation {
	for _, have := range cs {
		if have == c {
			return cs
		}
	}
	return append(cs, c)
}

// writeAnnotation writes one item of message.annotations (or delta.annotations): a
// url_citation whose span is [start, end) of the content, in Unicode code points, as OpenAI
// gives them (its indices are those of the content as a Python string).
func writeAnnotation(w *jw, c urlCitation, start, end int) {
	w.item()
	w.open('{')
	w.kstr("type", "url_citation")
	w.key("url_citation")
	w.open('{')
	w.kint("end_index", int64(end))
	w.kint("start_index", int64(start))
	w.kstr("title", c.title)
	w.kstr("url", c.url)
	w.close('}')
	w.close('}')
}
