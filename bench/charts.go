package main

import (
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	xdraw "image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Chart size: small PNGs for docs/img.
const (
	chartWidth = 6 * vg.Inch
	chartDPI   = 80
)

// series is one line of a chart.
type series struct {
	name string
	y    func(p point) float64
}

// writeCharts writes <label>-latency.png (latency percentiles over time;
// only when there were deliveries) and <label>-throughput.png (deliveries/s, and server and load CPU, over
// time) into dir.
func writeCharts(dir string, r *result) error {
	hasLatency := false
	for _, p := range r.Series {
		hasLatency = hasLatency || p.P50 > 0
	}
	if !hasLatency {
		return writeThroughput(dir, r)
	}
	lat := newChart(r.Label+": end-to-end latency per interval", "ms (log)", r.Series, []series{
		{"p50", func(p point) float64 { return p.P50 }},
		{"p99", func(p point) float64 { return p.P99 }},
		{"p99.9", func(p point) float64 { return p.P999 }},
		{"max", func(p point) float64 { return p.Max }},
	}, true)
	if err := savePNG(filepath.Join(dir, r.Label+"-latency.png"), 3*vg.Inch, lat); err != nil {
		return err
	}
	return writeThroughput(dir, r)
}

// writeThroughput writes <label>-throughput.png: deliveries/s and CPU, or
// for a run without publications connections, server RSS and CPU.
func writeThroughput(dir string, r *result) error {
	cpu := newChart("CPU", "cores", r.Series, []series{
		{"server", func(p point) float64 { return p.ServerCores }},
		{"load", func(p point) float64 { return p.LoadCores }},
	}, false)
	delivered := false
	for _, p := range r.Series {
		delivered = delivered || p.DeliveredPerSec > 0
	}
	if !delivered {
		conns := newChart(r.Label+": connections", "", r.Series, []series{
			{"open", func(p point) float64 { return float64(p.Open) }},
			{"subscribed/s", func(p point) float64 { return p.ConnectsPerSec }},
		}, false)
		rss := newChart("server RSS", "MB", r.Series, []series{
			{"RSS", func(p point) float64 { return p.ServerRSSMB }},
		}, false)
		return savePNG(filepath.Join(dir, r.Label+"-throughput.png"), 2.2*vg.Inch, conns, rss, cpu)
	}
	// The server's bytes out over the run's mean frame size: deliveries
	// the server wrote, to compare with those the clients received.
	var in, got float64
	for _, p := range r.Series {
		in += p.ClientBytesPerSec
		got += p.DeliveredPerSec
	}
	frame := ratio(in, got)
	thr := newChart(r.Label+": deliveries/s", "per s", r.Series, []series{
		{"received", func(p point) float64 { return p.DeliveredPerSec }},
		{"owed", func(p point) float64 { return p.ExpectedPerSec }},
		{"written (est.)", func(p point) float64 { return ratio(p.ServerBytesPerSec, frame) }},
		{"server writes", func(p point) float64 { return p.WritesPerSec }},
	}, false)
	return savePNG(filepath.Join(dir, r.Label+"-throughput.png"), 2.8*vg.Inch, thr, cpu)
}

// newChart plots ys against time. A log chart skips non-positive values.
func newChart(title, ylabel string, pts []point, ys []series, logY bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "s"
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	anyPoint := false
	for i, s := range ys {
		var xy plotter.XYs
		for _, pt := range pts {
			v := s.y(pt)
			if logY && v <= 0 {
				continue
			}
			xy = append(xy, plotter.XY{X: pt.T, Y: v})
		}
		if len(xy) == 0 {
			continue
		}
		anyPoint = true
		l, err := plotter.NewLine(xy)
		if err != nil {
			continue
		}
		l.Color = plotutil.Color(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	if logY && anyPoint {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	if !logY {
		p.Y.Min = 0
	}
	p.BackgroundColor = color.White
	return p
}

// savePNG draws the plots stacked vertically into one PNG of the given
// height per plot.
func savePNG(path string, height vg.Length, plots ...*plot.Plot) error {
	img := vgimg.NewWith(vgimg.UseWH(chartWidth, height*vg.Length(len(plots))), vgimg.UseDPI(chartDPI))
	dc := draw.New(img)
	rows := make([][]*plot.Plot, len(plots))
	for i, p := range plots {
		rows[i] = []*plot.Plot{p}
	}
	canvases := plot.Align(rows, draw.Tiles{Rows: len(plots), Cols: 1, PadY: vg.Points(6)}, dc)
	for i, p := range plots {
		p.Draw(canvases[i][0])
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cannot write chart: %w", err)
	}
	// A 256-colour image is a third of the RGBA one, for docs/img.
	src := img.Image()
	pal := image.NewPaletted(src.Bounds(), palette.Plan9)
	xdraw.Draw(pal, src.Bounds(), src, src.Bounds().Min, xdraw.Src)
	if err := png.Encode(f, pal); err != nil {
		f.Close()
		return fmt.Errorf("cannot write chart %s: %w", path, err)
	}
	return f.Close()
}

// logTicks labels a log axis at 1, 2 and 5 times the powers of ten
// (plot.LogTicks labels only the powers, often none on a short range).
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for dec := math.Pow10(int(math.Floor(math.Log10(lo)))); dec <= hi; dec *= 10 {
		for i := 1; i < 10; i++ {
			v := dec * float64(i)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if i == 1 || i == 2 || i == 3 || i == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
