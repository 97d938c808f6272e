// Command intakebench serves one intake mode of webhook.Handler for an
// external load generator (docs/BENCHMARKS.md, "Intake, external load
// generator"):
//
//	go run ./internal/intakebench -body webhook/testdata/event_ONCRMDEALADD_app.json -print > /tmp/body
//	GOMAXPROCS=1 taskset -c 0 go run ./internal/intakebench -mode sync -addr 127.0.0.1:8099
//	taskset -c 1 wrk -t1 -c8 -d5s -s internal/intakebench/post.lua http://127.0.0.1:8099/
//
// With -cpuprofile FILE the server writes its CPU profile when it is
// stopped (SIGINT or SIGTERM).
//
// Modes: bare (reads the body, answers 200), sync, async, memory, redis
// (-redis address), with a handler that reads the typed fields it needs.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/redis/go-redis/v9"

	"github.com/b24go/sdk/bitrix/redisstore"
	"github.com/b24go/sdk/events"
	"github.com/b24go/sdk/internal/phpform"
	"github.com/b24go/sdk/webhook"
)

func main() {
	mode := flag.String("mode", "sync", "bare, sync, async, memory or redis")
	addr := flag.String("addr", "127.0.0.1:8099", "listen address")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis address (mode redis)")
	bodyFile := flag.String("body", "", "a fixture (JSON) to print as a form body, with -print")
	printBody := flag.Bool("print", false, "print the form body of -body and its token (token on stderr)")
	token := flag.String("token", "", "application token (default: the one in the body read from stdin with -print)")
	cpuProfile := flag.String("cpuprofile", "", "write the server's CPU profile to this file when stopped (SIGINT, SIGTERM)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			<-stop
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				log.Fatal(err)
			}
			os.Exit(0)
		}()
	}
	if *printBody {
		raw, err := os.ReadFile(*bodyFile)
		if err != nil {
			log.Fatal(err)
		}
		tree, err := phpform.ParseJSON(raw)
		if err != nil {
			log.Fatal(err)
		}
		body, err := phpform.Encode(tree)
		if err != nil {
			log.Fatal(err)
		}
		form, _ := url.ParseQuery(body)
		fmt.Print(body)
		fmt.Fprintln(os.Stderr, form.Get("auth[application_token]"))
		return
	}
	var h http.Handler
	if *mode == "bare" {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"result":"ok"}` + "\n"))
		})
	} else {
		opts := []webhook.Option{webhook.WithApplicationToken(*token)}
		switch *mode {
		case "sync":
		case "async":
			opts = append(opts, webhook.WithAsync(1, 1024))
		case "memory":
			opts = append(opts, webhook.WithQueue(webhook.NewMemoryQueue(0), 1, webhook.RetryPolicy{}))
		case "redis":
			rdb := redis.NewClient(&redis.Options{Addr: *redisAddr})
			q, err := redisstore.NewQueue(rdb, "intakebench", 0, 0)
			if err != nil {
				log.Fatal(err)
			}
			opts = append(opts, webhook.WithQueue(q, 1, webhook.RetryPolicy{}))
		default:
			log.Fatalf("unknown mode %q", *mode)
		}
		wh, err := webhook.New(opts...)
		if err != nil {
			log.Fatal(err)
		}
		var sink int
		wh.OnDealAdd(func(_ context.Context, _ *events.Event, d *events.CRMEntity) error { sink += d.EntityID(); return nil })
		wh.OnTaskAdd(func(_ context.Context, _ *events.Event, d *events.Task) error {
			sink += int(d.FieldsAfter.ID)
			return nil
		})
		wh.OnBotMessage(func(_ context.Context, _ *events.Event, m *events.BotMessage) error {
			sink += len(m.Params.Message)
			return nil
		})
		h = wh
	}
	log.Fatal(http.ListenAndServe(*addr, h))
}
