// Command vcsim starts govmomi's vCenter simulator (the simulator.VPX() model: datacenter DC0, cluster DC0_C0 with
// three hosts, standalone host DC0_H0, datastore LocalDS_0, VMs in DC0/vm) on a loopback port and prints its SDK URL
// as the first line of standard output. It stops when standard input closes or on SIGINT/SIGTERM, so a test fixture
// that dies never leaves it behind.
//
// Built offline from Debian packages (golang-go, golang-github-vmware-govmomi-dev, golang-github-google-uuid-dev):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off GOPROXY=off go build -o vcsim ./tools/vcsim
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (keep it on loopback)")
	username := flag.String("username", "vmpooler", "the only username Login accepts")
	password := flag.String("password", "vmpooler", "the only password Login accepts")
	idle := flag.Duration("session-idle-timeout", 0, "expire sessions idle for this long (0 = never)")
	delays := flag.String("method-delay", "", "comma-separated Method=milliseconds pairs delaying those SOAP calls, e.g. CloneVM_Task=3000")
	flag.Parse()

	log.SetOutput(os.Stderr)
	simulator.SessionIdleTimeout = *idle

	model := simulator.VPX()
	if *delays != "" {
		model.DelayConfig.MethodDelay = map[string]int{}
		for _, pair := range strings.Split(*delays, ",") {
			parts := strings.SplitN(pair, "=", 2)
			ms, err := strconv.Atoi(strings.TrimSpace(parts[len(parts)-1]))
			if len(parts) != 2 || err != nil {
				log.Fatalf("vcsim: -method-delay %q: want Method=milliseconds", pair)
			}
			model.DelayConfig.MethodDelay[strings.TrimSpace(parts[0])] = ms
		}
	}
	defer model.Remove()
	if err := model.Create(); err != nil {
		log.Fatalf("vcsim: creating the model: %v", err)
	}

	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*username, *password)}
	server := model.Service.NewServer()
	defer server.Close()

	sdk := *server.URL
	sdk.User = nil
	fmt.Println(sdk.String())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	stdinClosed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stdinClosed)
	}()

	select {
	case <-stop:
	case <-stdinClosed:
	}

	// Give in-flight requests a moment before the deferred Close.
	time.Sleep(10 * time.Millisecond)
}
