import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip, type ChartType } from 'chart.js';

// Only what these charts draw, so the bundle carries no more of Chart.js.
Chart.register(LineController, LineElement, PointElement, BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
}

const COLORS = ['#2f6fed', '#d93a3a', '#1f9d55', '#b7791f', '#805ad5'];
export const color = (index: number) => COLORS[index % COLORS.length]!;

/**
 * A chart on `canvas` that is redrawn in place with new labels and series. The canvas carries the
 * number of points drawn (`data-points`), for a reader (or a test) that cannot see the pixels.
 */
export class SeriesChart {
  private readonly chart: Chart;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    type: Extract<ChartType, 'line' | 'bar'>,
    options: { yMax?: number; percent?: boolean } = {},
  ) {
    this.chart = new Chart(canvas, {
      type,
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        spanGaps: true,
        scales: {
          y: {
            beginAtZero: true,
            ...(options.yMax === undefined ? {} : { max: options.yMax }),
            ticks: options.percent ? { callback: (value) => `${Math.round(Number(value) * 100)}%` } : { precision: 0 },
          },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    });
    this.canvas.dataset['points'] = '0';
  }

  show(labels: string[], series: Series[]): void {
    this.chart.data.labels = labels;
    this.chart.data.datasets = series.map((s) => ({ label: s.label, data: s.values, borderColor: s.color, backgroundColor: s.color, pointRadius: 2, tension: 0.2 }));
    this.chart.update();
    this.canvas.dataset['points'] = String(series.reduce((sum, s) => sum + s.values.filter((value) => value !== null).length, 0));
  }

  destroy(): void {
    this.chart.destroy();
  }
}
