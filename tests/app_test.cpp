// The pieces every GAN program shares (tinygan/app): the interrupt handler, losses.csv and its
// bounded curves, round plot ticks, the flag parser.
#include "test_support.hpp"

#include <tinygan/app/gan_program.hpp>

#include <csignal>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

using namespace tinygan;

TEST_CASE("The first SIGINT only raises a flag; the second ends the process by the signal") {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        std::signal(SIGINT, SIG_DFL);  // not doctest's crash reporter
        app::InterruptHandler interrupts;
        std::raise(SIGINT);
        if (!interrupts.requested() || interrupts.signal() != SIGINT) _exit(10);  // the first did not register
        std::raise(SIGINT);
        _exit(11);  // the second did not end the process
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGINT);
    CHECK(app::InterruptHandler::exit_status(SIGINT) == 130);
    CHECK(app::InterruptHandler::exit_status(SIGTERM) == 143);
}

TEST_CASE("SIGTERM is handled the same way, and the previous handler comes back afterwards") {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        std::signal(SIGTERM, SIG_DFL);  // not doctest's crash reporter
        {
            app::InterruptHandler interrupts;
            std::raise(SIGTERM);
            if (interrupts.signal() != SIGTERM) _exit(10);
        }
        std::raise(SIGTERM);  // the default action again: the process ends
        _exit(11);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
}

TEST_CASE("losses.csv: a resumed log keeps the rows up to the checkpoint and drops later and partial ones") {
    test::TempDir dir;
    const std::string path = dir.file("losses.csv");
    {
        app::LossLog log(path, {"d_loss", "g_loss"}, 0);
        for (int step = 1; step <= 5; ++step) {
            const float row[2] = {0.5f * step, 1.0f * step};
            log.append(step, row);
        }
    }
    {  // a crash mid-row after step 5
        std::ofstream out(path, std::ios::app);
        out << "6,0.12";
    }
    app::LossLog resumed(path, {"d_loss", "g_loss"}, 3);
    const float row[2] = {9, 9};
    resumed.append(4, row);
    resumed.close();
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    CHECK(text == "step,d_loss,g_loss\n1,0.500000,1.000000\n2,1.000000,2.000000\n3,1.500000,3.000000\n"
                  "4,9.000000,9.000000\n");
    CHECK(resumed.series(1).ys() == std::vector<double>{1, 2, 3, 9});
    CHECK(resumed.series(1).xs() == std::vector<double>{1, 2, 3, 4});
}

TEST_CASE("A loss curve stays within its capacity however long the run, as the means of its steps") {
    app::BoundedSeries series(8);
    for (int step = 1; step <= 1000; ++step) series.add(step, step % 2 ? 1.0 : 3.0);
    CHECK(series.xs().size() < 8);
    CHECK(series.xs().size() >= 4);
    CHECK(series.steps_per_point() == 128);
    for (double y : series.ys()) CHECK(y == 2.0);              // each point averages whole pairs
    CHECK(series.xs().front() == doctest::Approx(64.5));       // the mean step of steps 1..128
    app::BoundedSeries exact(100);
    for (int step = 1; step <= 50; ++step) exact.add(step, step);
    CHECK(exact.ys().size() == 50);                            // shorter runs keep every step
}

TEST_CASE("Plot ticks are round numbers") {
    CHECK(detail::nice_tick_step(10000, 6) == 2000);
    CHECK(detail::nice_tick_step(0.17, 5) == doctest::Approx(0.05));
    CHECK(detail::nice_tick_step(30, 6) == 5);
    CHECK(detail::tick_label(4000, 2000) == "4000");
    CHECK(detail::tick_label(0.15, 0.05) == "0.15");
    CHECK(detail::tick_label(2.5, 0.5) == "2.5");
    CHECK(detail::tick_label(1e-17, 0.05) == "0.00");
}

TEST_CASE("Flags: values, ranges, switches and choices, with clear rejections") {
    std::int64_t steps = 10;
    std::uint64_t seed = 0;
    double rate = 1e-3;
    std::string out = "runs", recipe = "a";
    bool resume = false;
    app::Flags flags;
    flags.add("--steps", steps, 1, 100, "steps");
    flags.add("--seed", seed, "seed");
    flags.add("--rate", rate, "rate");
    flags.add("--out", out, "out");
    flags.add_choice("--recipe", recipe, {"a", "b"}, "recipe");
    flags.add_switch("--resume", resume, "resume");
    flags.parse({"--steps", "20", "--seed=7", "--rate", "0.5", "--out", "x", "--recipe", "b", "--resume"});
    CHECK(steps == 20);
    CHECK(seed == 7);
    CHECK(rate == 0.5);
    CHECK(out == "x");
    CHECK(recipe == "b");
    CHECK(resume);
    CHECK(flags.help().find("  --steps") != std::string::npos);
    auto rejects = [&](std::vector<std::string> args, const std::string& fragment) {
        bool thrown = false;
        try {
            flags.parse(args);
        } catch (const app::UsageError& e) {
            thrown = true;
            INFO(e.what());
            CHECK(std::string(e.what()).find(fragment) != std::string::npos);
        }
        CHECK_MESSAGE(thrown, fragment);
    };
    rejects({"--steps", "200"}, "--steps must be between 1 and 100, got 200");
    rejects({"--steps", "1e3"}, "--steps expects an integer, got \"1e3\"");
    rejects({"--rate", "-1"}, "--rate expects a positive finite number");
    rejects({"--rate", "nan"}, "--rate expects a positive finite number");
    rejects({"--recipe", "c"}, "--recipe must be one of a, b, got \"c\"");
    rejects({"--resume=yes"}, "--resume takes no value");
    rejects({"--out", ""}, "--out needs a value");
    rejects({"--out"}, "--out needs a value");
    rejects({"--nope"}, "unknown flag --nope");
    rejects({"stray"}, "unexpected argument \"stray\"");
}
