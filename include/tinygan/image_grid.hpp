// PNG output for people to look at: a grid of generated digits, and a plot of the loss curves.
// Written with stb_image_write (Debian's libstb-dev); labels drawn with stb_easy_font. Both are
// compiled here as static functions, so any number of translation units may include this header.
// Not part of gan.hpp. Files are written atomically.
#pragma once

#include "config.hpp"
#include "file_io.hpp"
#include "error.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#ifndef STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#endif
#include <stb/stb_easy_font.h>
#include <stb/stb_image_write.h>

namespace tinygan {

// An 8-bit RGB canvas.
struct Image {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgb;

    Image(int w, int h, std::uint8_t background = 255) : width(w), height(h), rgb(std::size_t(w) * h * 3, background) {}

    void set(int x, int y, const std::uint8_t color[3]) {
        if (x < 0 || y < 0 || x >= width || y >= height) return;
        std::uint8_t* p = &rgb[(std::size_t(y) * width + x) * 3];
        p[0] = color[0];
        p[1] = color[1];
        p[2] = color[2];
    }
    void fill_rect(int x0, int y0, int x1, int y1, const std::uint8_t color[3]) {
        for (int y = std::max(y0, 0); y < std::min(y1, height); ++y)
            for (int x = std::max(x0, 0); x < std::min(x1, width); ++x) set(x, y, color);
    }
    void line(double x0, double y0, double x1, double y1, const std::uint8_t color[3]) {
        const int steps = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
        for (int i = 0; i <= steps; ++i) {
            const double t = static_cast<double>(i) / steps;
            set(static_cast<int>(std::lround(x0 + t * (x1 - x0))), static_cast<int>(std::lround(y0 + t * (y1 - y0))), color);
        }
    }
    // Text with stb_easy_font's quads, each an axis-aligned rectangle; scale 1 is ~7 px tall.
    void text(int x, int y, const std::string& s, const std::uint8_t color[3], int scale = 1) {
        std::vector<char> buffer(s.size() * 1024 + 64);  // up to 16 quads of 64 bytes per character
        std::string copy = s;
        const int quads = stb_easy_font_print(0, 0, copy.data(), nullptr, buffer.data(), static_cast<int>(buffer.size()));
        for (int q = 0; q < quads; ++q) {
            const float* v0 = reinterpret_cast<const float*>(buffer.data() + q * 64);
            const float* v2 = reinterpret_cast<const float*>(buffer.data() + q * 64 + 32);
            fill_rect(x + static_cast<int>(std::lround(v0[0] * scale)), y + static_cast<int>(std::lround(v0[1] * scale)),
                      x + static_cast<int>(std::lround(v2[0] * scale)), y + static_cast<int>(std::lround(v2[1] * scale)),
                      color);
        }
    }
};

inline void write_png(const std::string& path, const Image& image) {
    std::vector<std::uint8_t> png;
    auto append = [](void* context, void* data, int size) {
        auto* out = static_cast<std::vector<std::uint8_t>*>(context);
        out->insert(out->end(), static_cast<std::uint8_t*>(data), static_cast<std::uint8_t*>(data) + size);
    };
    if (!stbi_write_png_to_func(append, &png, image.width, image.height, 3, image.rgb.data(), image.width * 3))
        throw DataError("cannot encode PNG for " + path);
    write_file_atomically(path, png.data(), png.size());
}

// Lays out images (one per column, each rows x cols pixels in row-major order, values in [0, 1])
// as a grid of `grid_cols` columns, white ink on black as MNIST is drawn, each pixel `scale` wide.
template <class Scalar>
Image image_grid(const Matrix<Scalar>& images, Index rows, Index cols, int grid_cols, int scale = 2) {
    if (images.rows() != rows * cols)
        throw ShapeError(detail::concat("image_grid: images have ", images.rows(), " pixels, expected ", rows, " x ", cols));
    if (grid_cols <= 0 || scale <= 0) throw ArgumentError("image_grid: grid_cols and scale must be positive");
    const int count = static_cast<int>(images.cols());
    const int grid_rows = (count + grid_cols - 1) / grid_cols;
    const int pad = 2;
    const int cell_w = static_cast<int>(cols) * scale + pad, cell_h = static_cast<int>(rows) * scale + pad;
    Image image(grid_cols * cell_w + pad, grid_rows * cell_h + pad, 40);
    for (int k = 0; k < count; ++k) {
        const int x0 = pad + (k % grid_cols) * cell_w, y0 = pad + (k / grid_cols) * cell_h;
        for (Index r = 0; r < rows; ++r)
            for (Index c = 0; c < cols; ++c) {
                const double v = std::clamp(static_cast<double>(images(r * cols + c, k)), 0.0, 1.0);
                const auto level = static_cast<std::uint8_t>(std::lround(v * 255));
                const std::uint8_t color[3] = {level, level, level};
                image.fill_rect(x0 + static_cast<int>(c) * scale, y0 + static_cast<int>(r) * scale,
                                x0 + static_cast<int>(c + 1) * scale, y0 + static_cast<int>(r + 1) * scale, color);
            }
    }
    return image;
}

struct Curve {
    std::string label;
    std::vector<double> values;
    std::uint8_t color[3];
};

namespace detail {

// A round tick spacing for a range: 1, 2 or 5 times a power of ten, giving about `ticks` ticks
// (as plotting libraries choose them: 0, 2000, 4000, ... or 0.05, 0.10, ...).
inline double nice_tick_step(double range, int ticks) {
    const double raw = range / std::max(ticks, 1);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double fraction = raw / magnitude;
    return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
}

// A tick label with as many decimals as the spacing needs: "4000", "0.05", "2.5".
inline std::string tick_label(double value, double step) {
    const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
    char label[32];
    std::snprintf(label, sizeof label, "%.*f", decimals, std::abs(value) < step * 1e-9 ? 0.0 : value);
    return label;
}

}  // namespace detail

// A line plot of curves sharing an x axis (`x_values`), with a light raw trace and a moving average
// of `smoothing` points on top; the y range covers 0 to the 99th percentile, so rare spikes do not
// flatten the plot. Both axes have round ticks.
inline Image plot_curves(const std::string& title, const std::vector<double>& x_values, const std::vector<Curve>& curves,
                         int smoothing = 100, int width = 900, int height = 450) {
    Image image(width, height, 255);
    const int left = 80, right = 40, top = 40, bottom = 40;
    const int plot_w = width - left - right, plot_h = height - top - bottom;
    const std::uint8_t black[3] = {0, 0, 0}, grey[3] = {215, 215, 215};
    image.text(left, 12, title, black, 2);
    if (x_values.size() < 2) return image;

    std::vector<double> all;
    for (const auto& curve : curves)
        for (double v : curve.values)
            if (std::isfinite(v)) all.push_back(v);
    double y_top = 1;
    if (!all.empty()) {
        std::sort(all.begin(), all.end());
        y_top = std::max(all[static_cast<std::size_t>(0.99 * (all.size() - 1))] * 1.1, 1e-6);
    }
    const double y_step = detail::nice_tick_step(y_top, 5);
    const double y_max = std::ceil(y_top / y_step - 1e-9) * y_step;
    // The x axis starts at the round tick at or before the first x (step 1 plots from 0).
    const double x_step = detail::nice_tick_step(std::max(x_values.back() - x_values.front(), 1.0), 6);
    const double x_min = std::floor(x_values.front() / x_step) * x_step;
    const double x_max = std::max(x_values.back(), x_min + 1);
    auto px = [&](double x) { return left + (x - x_min) / (x_max - x_min) * plot_w; };
    auto py = [&](double y) { return top + plot_h - std::clamp(y / y_max, 0.0, 1.0) * plot_h; };

    for (double y = 0; y <= y_max + y_step * 1e-6; y += y_step) {  // horizontal grid lines and labels
        image.line(left, py(y), left + plot_w, py(y), grey);
        image.text(4, static_cast<int>(py(y)) - 6, detail::tick_label(y, y_step), black, 2);
    }
    for (double x = x_min; x <= x_max + x_step * 1e-6; x += x_step) {
        image.line(px(x), top + plot_h, px(x), top + plot_h + 4, black);
        image.text(static_cast<int>(px(x)) - 16, top + plot_h + 8, detail::tick_label(x, x_step), black, 2);
    }
    image.line(left, top, left, top + plot_h, black);
    image.line(left, top + plot_h, left + plot_w, top + plot_h, black);

    int legend_x = left + plot_w - 200;
    for (const auto& curve : curves) {
        const std::size_t n = std::min(curve.values.size(), x_values.size());
        const std::uint8_t light[3] = {static_cast<std::uint8_t>(255 - (255 - curve.color[0]) / 4),
                                       static_cast<std::uint8_t>(255 - (255 - curve.color[1]) / 4),
                                       static_cast<std::uint8_t>(255 - (255 - curve.color[2]) / 4)};
        for (std::size_t i = 1; i < n; ++i)
            image.line(px(x_values[i - 1]), py(curve.values[i - 1]), px(x_values[i]), py(curve.values[i]), light);
        double sum = 0, previous = 0;
        for (std::size_t i = 0; i < n; ++i) {
            sum += curve.values[i];
            if (i >= static_cast<std::size_t>(smoothing)) sum -= curve.values[i - smoothing];
            const double mean = sum / static_cast<double>(std::min<std::size_t>(i + 1, smoothing));
            if (i > 0) image.line(px(x_values[i - 1]), py(previous), px(x_values[i]), py(mean), curve.color);
            previous = mean;
        }
        image.fill_rect(legend_x, top + 8, legend_x + 14, top + 20, curve.color);
        image.text(legend_x + 20, top + 8, curve.label, black, 2);
        legend_x += 110;
    }
    image.text(left + plot_w / 2 - 10, height - 16, "step", black, 2);
    return image;
}

// The images one above the other (widths may differ; the rest is white).
inline Image stack_vertically(const std::vector<Image>& parts) {
    int width = 0, height = 0;
    for (const auto& p : parts) {
        width = std::max(width, p.width);
        height += p.height;
    }
    Image out(width, height, 255);
    int y0 = 0;
    for (const auto& p : parts) {
        for (int y = 0; y < p.height; ++y)
            std::copy_n(&p.rgb[std::size_t(y) * p.width * 3], std::size_t(p.width) * 3, &out.rgb[(std::size_t(y0 + y) * width) * 3]);
        y0 += p.height;
    }
    return out;
}

}  // namespace tinygan
