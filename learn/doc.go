// Package learn is Clearbar's score-based router: request features, a heuristic difficulty
// score for teams with no outcomes yet, and a learned model of P(pass | request) per
// candidate model, trained in pure Go on an outcomes table, with the choice rules that turn
// those probabilities into a routing decision.
//
// # Features
//
// A Featurizer turns a request (the last user message, the system prompt and an optional task
// or category name) into a sparse Vector: lower-cased word unigrams and bigrams hashed with
// signed hashing into 2^16 buckets, system-prompt words in their own namespace, a one-hot
// hashed task feature (and one for the task's family, "mmlu" in "mmlu/anatomy"), bucketed
// shape features, and the dense structural features of StructuralNames (length, code and
// math markers, question marks, multiple-choice options, list items, reasoning, comparison,
// multi-step and constraint cues). Of a long text it reads only the first 512 and the last
// 1024 bytes (FeatureConfig.MaxTextBytes and TailBytes, feature version 2): the question
// of a long prompt is usually at its end, after the context or the few-shot examples, and
// the cost of extraction no longer grows with the prompt. Models of feature version 1,
// which read a 16 KiB prefix, still load and predict as they did. FeatureConfig records the
// layout in every model file.
//
// The gateway passes the name of the request's category as the task. An item's task feature
// in training is its rows' category, else their task: a model trained on a category's rows
// ("clearbar learn train --category NAME") learns the name the gateway passes, while one
// trained on rows without a category learns their tasks (an imported benchmark's, like
// "mmlu/anatomy"), which the gateway never passes; learn train warns, and TrainingInfo
// records the tasks, which replay checks against the category it replays.
//
// An item's user message in training is its rows' prompt (an eval run's last user message)
// and its system prompt that of the request its first row records (outcomes.Row.Request,
// which eval runs record when the prompt alone does not say what was asked), read as a score
// route reads it in the gateway: the first system or developer message (RequestSystem). Rows
// without a recorded request, such as imported benchmarks and trace exports, train without
// one, and so do items whose request has no system prompt: they are featurised exactly as
// before rows carried requests, and models trained before predict as they did. A router
// trained on such rows still sees the system prompt at serving time, words it never learned
// weights for, and the system prompt's share of the structural features (context, system).
//
// # Embeddings
//
// A model may also read the request's embedding, from an embeddings endpoint: a dense block
// after the structural features, described by FeatureConfig.Embedding (EmbeddingConfig: the
// spec model that embeds, the vectors' length, whether they are normalised, the text cut at
// DefaultEmbedTextBytes, and a scale). EmbedDataset embeds a dataset's prompts in batches,
// with bounded concurrency, through a cache file keyed by a SHA-256 of the model, its
// provider's endpoint (the spec's base_url, normalised), the dimensions asked for and the text
// ("clearbar learn train --embed MODEL --spec SPEC.yaml" keeps it next to the router file, so
// that a rerun makes no call; "clearbar replay --router" reads it, to predict with the vectors
// training used). The endpoint joined the key after the first caches were written: their
// entries still serve providers without a base_url, and those of providers with one miss and
// are embedded again. Model files without a block load and predict exactly as before.
//
// The block is the vector, scaled to unit length, minus the training items' mean, times a
// scale that gives it a mean squared length of 1. The gateway's embeddings call may fail or
// time out, so a model must predict without the vector too, and PredictWith reports whether
// it used one. The choice: the block is centred, so that a missing vector is the average one
// and contributes zero; Train drops the block for a share of the items in every epoch
// (TrainOptions.EmbedDropout, default 10%), so that the other features keep weights of their
// own; and, since the prediction at the average embedding is not the average prediction (a
// router that separates easy from hard prompts by their embeddings is confident at their
// mean), predictions without a vector go through a calibration of their own: a Platt scaling
// per candidate fitted on the out-of-fold predictions made without the block, saved with the
// block's centre in the model file's "embedding_block". The report gives each candidate's
// held-out log loss and AUC without the embedding beside those with it. Without
// cross-validation (Folds 1) that calibration is the identity.
//
// # Heuristic
//
// Heuristic scores difficulty in [0, 1] as a clamped weighted sum of the structural features,
// with documented default weights a spec can override by name, and maps the score to tiers
// (default cut points 0.35 and 0.7).
//
// # Model
//
// Train groups outcome rows by item, labels each (item, model) pair by its Pass (or
// Score ≥ 0.5), and fits one L2-regularised logistic regression per candidate with AdaGrad.
// The candidates share a second set of weights trained on all their labels (what makes an
// item hard for every model), folded into each candidate's weights when the model is built.
// Five-fold cross-validation gives held-out metrics and out-of-fold predictions, on which a
// Platt scaling per candidate is fitted and folded into the weights, and on which a choice
// rule can be calibrated. The model is the mean of the five fold models (bagging): its
// predictions are distributed like the out-of-fold ones the Platt scaling and a calibrated
// rule were fitted on, so that a λ chosen on them means the same for the model (a sixth fit
// on every item predicted on a scale of its own, which moved the operating point by up to
// twenty points of cost). Training is deterministic given the rows, options and seed.
//
// The model file is JSON: "version" (1), "kind", "features" (FeatureConfig), "models" (the
// candidate names), "bias" (one per candidate), "weights" (the feature-major float32 matrix,
// little-endian, base64: about 4 MB for 11 candidates, 0.7 MB for 2), with an embedding block
// "embedding_block" (its centre and fallback calibration), and "training" (TrainingInfo:
// data, split, seed, optimiser settings and held-out metrics per candidate, and what
// identifies the training data whatever the working directory: the file's absolute path, a
// fingerprint of the training prompts (PromptSet: the smallest 4096 of their SHA-256-based
// hashes, about 22 KB at most), from which replay tells outcomes the model was trained on in
// any file, and the items' task features, which replay compares with the category name the
// gateway passes). Files written before those were recorded load without them. Save writes
// the file readable by every user (0644), or with the permissions of the file it replaces.
// Load reads an 11-candidate file in about 70 ms.
//
// Model.Predict does not allocate. It costs 3–7 µs for a 400-character prompt with 2 or 11
// candidates (BenchmarkPredict), feature extraction being about 2–3.5 µs of that, and at most
// about 10 µs for any longer prompt, since extraction reads at most 1.5 KB of it
// (BenchmarkPredict5KB, which also times the version-1 layout: about 3 times as long on a
// 5 KB prompt, and growing with the prompt up to 16 KiB). PredictWith with a 1536-value
// embedding (text-embedding-3-small) does not allocate either and costs about 5 µs with 2
// candidates and 15 µs with 11 for the same 400-character prompt (BenchmarkPredictWith: go
// test ./learn -run XXX -bench PredictWith; 4.8 and 15.0 µs on a 2-core AMD EPYC), the
// block adding about 2 µs and 11 µs; the embeddings call itself is network time, which the
// gateway records apart (clearbar.ScoreEmbedding.Latency).
//
// # Choice rules
//
// Threshold sends a request to the weak model when P(pass) of the weak model is at least T.
// WillingnessToPay picks the candidate maximising P(pass) − λ·cost. MixedWTP decides a
// calibrated share of requests with one λ and the rest with another, chosen by RequestShare,
// a hash of the request's text (so that a retried request is decided the same way): mixing
// two operating points reaches any point of the segment between them, which a single λ
// misses where the cost–quality curve has a step, as when a whole task switches models at
// once. Calibrate picks T, λ, or with Target.Mix the two λ and the share, on out-of-fold
// predictions for a Target: a fraction of the best single model's quality at the least cost
// (optionally with a margin in standard errors), or a share of traffic to the strong model.
//
// # Evaluation
//
// Evaluate measures the learned router against baselines on a seeded train/test split, the
// way RouterBench and RouteLLM do; TestEvaluation runs it on the project's shared data and
// writes testdata/evaluation.md. The protocol:
//
//   - Split: an item is in the test half when the FNV-1a 64-bit hash of "<seed>:split:<item
//     id>", finalised with MurmurHash3's fmix64, is odd (seed 1). RouterBench's own
//     (RouterDC) train/test column is not in the outcomes table and is not used.
//   - Everything is fitted on the train half: the model, the lookup's rates, the cost
//     estimates, and the operating points, which are calibrated on five-fold out-of-fold
//     predictions of the train half for 95% of the best model's quality with a margin of one
//     standard error of the paired per-item difference. An operating point is a MixedWTP
//     rule: the cheapest point of the hull of the λ sweep meeting the target, whose standard
//     error counts the mix's own coin; on the test half each item is decided by the λ its
//     prompt's RequestShare selects, as a gateway would.
//   - Costs: RouterBench rows carry cost_usd per call. RouteLLM rows carry none, so calls are
//     priced from list prices (RouteLLMPrices: gpt-4-1106-preview $10/M input and $30/M
//     output tokens; Mixtral-8x7B $0.60/M both, Together AI's price), with input tokens
//     estimated as the prompt's bytes / 4 and a fixed output of 8 tokens for MMLU and 200 for
//     GSM8K. A router decides on the costs it could know before the call: the item's own
//     (list-priced) cost for RouteLLM, each model's train-half mean cost within the item's
//     task for RouterBench.
//   - Baselines: each single model; the oracle (the cheapest model that passes); random
//     mixing of the cheapest and the best model at the learned router's cost; the zero
//     router (the convex hull of the single models at that cost); and the category-aware
//     lookup: each model's train pass rate within the item's task (an MMLU subject, a
//     RouterBench task), shrunk towards its overall rate by two items, routed by the same
//     willingness-to-pay rule.
//   - Metrics: quality (mean pass rate, an ungraded call counting as a failure) and cost
//     per request, as a percentage of the best single model's; AIQ (RouterBench): the mean
//     quality of a router's cost–quality hull over the costs from the cheapest to the dearest
//     single model; APGR (RouteLLM, two models): with PGR(x) = (q(x) − q_weak)/(q_strong −
//     q_weak) for a share x of calls to the strong model, the area ∫₀¹ PGR(x) dx, computed
//     exactly over every item; and the cost at which a router's hull reaches 95% of the best
//     model's quality.
//
// EvalOptions.Dev runs the same protocol inside the train half (split again in two), for
// choosing features and settings without reading the test half.
package learn
