package catalog_test

import (
	"fmt"

	"github.com/clearbar/clearbar/catalog"
)

func ExampleCatalog_Lookup() {
	c := catalog.Default()
	e, ok := c.Lookup("gemini", "gemini-2.5-flash")
	fmt.Println(ok, e.Key, e.Input, e.Output)
	// 10k input tokens, 500 visible output tokens, 2000 reasoning tokens.
	fmt.Println(e.RequestCost(10_000, 0, 500, 2_000))

	if _, ok := c.Lookup("openai", "gpt-4o-mni"); !ok {
		fmt.Println("unknown model; did you mean", c.Suggest("gpt-4o-mni", 1))
	}
	// Output:
	// true gemini/gemini-2.5-flash $0.3/M $2.5/M
	// $0.00925
	// unknown model; did you mean [gpt-4o-mini]
}
