// Small tuple helpers for Sequential: visit every element in order.
#pragma once

#include <cstddef>
#include <tuple>
#include <utility>

namespace tinygan::detail {

// Calls f(element, index) for each tuple element, left to right.
template <class Tuple, class F, std::size_t... I>
void tuple_for_each_impl(Tuple& tuple, F& f, std::index_sequence<I...>) {
    (f(std::get<I>(tuple), std::integral_constant<std::size_t, I>{}), ...);
}

template <class Tuple, class F>
void tuple_for_each(Tuple& tuple, F&& f) {
    tuple_for_each_impl(tuple, f, std::make_index_sequence<std::tuple_size_v<std::remove_const_t<Tuple>>>{});
}

}  // namespace tinygan::detail
