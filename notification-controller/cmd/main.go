// Command notification-controller routes the events of every Flux controller to Alerts and
// their Providers (chat, webhooks, Git commit statuses), and turns webhooks received for
// Receivers into immediate reconciles.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	apiv1 "gotk.dev/notification-controller/api/v1"
	"gotk.dev/notification-controller/api/v1beta3"
	"gotk.dev/notification-controller/internal/controller"
	"gotk.dev/pkg/manager"
	"gotk.dev/pkg/options"
)

const controllerName = "notification-controller"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	var (
		rtOpts options.Runtime
		ncOpts controller.Options
	)
	fs := pflag.NewFlagSet(controllerName, pflag.ContinueOnError)
	rtOpts.BindFlags(fs, 4)
	ncOpts.BindFlags(fs) // after the shared flags: it takes over --events-addr
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return err
	}
	rt, err := manager.New(manager.Setup{
		Name:         controllerName,
		Options:      &rtOpts,
		FeatureGates: controller.FeatureGates(),
		AddToScheme:  []manager.AddToScheme{apiv1.AddToScheme, v1beta3.AddToScheme},
		Watched:      []client.Object{&apiv1.Receiver{}, &v1beta3.Alert{}, &v1beta3.Provider{}},
	})
	if err != nil {
		return err
	}
	if _, err := controller.Setup(rt, ncOpts); err != nil {
		return err
	}
	rt.Log.Info("starting manager", "eventsAddr", ncOpts.EventsAddr, "receiverAddr", ncOpts.ReceiverAddr)
	return rt.Manager.Start(ctrl.SetupSignalHandler())
}
